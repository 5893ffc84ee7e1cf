"""trainer-service routers."""
