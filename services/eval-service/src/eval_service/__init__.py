"""eval_service."""
