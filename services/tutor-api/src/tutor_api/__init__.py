"""tutor_api."""
