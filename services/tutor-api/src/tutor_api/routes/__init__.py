"""tutor-api routers."""
