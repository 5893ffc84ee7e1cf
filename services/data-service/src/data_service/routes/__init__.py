"""data-service routers."""
