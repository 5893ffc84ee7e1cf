"""eval-service routers."""
