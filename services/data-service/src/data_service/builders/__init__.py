"""Training-set builders: Socratic tutoring data from GSM8K, teacher (distillation) data."""
