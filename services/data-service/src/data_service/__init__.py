"""data_service."""
