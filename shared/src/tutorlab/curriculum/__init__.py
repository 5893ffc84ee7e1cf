"""School-mathematics curriculum and training-data format, shared by data, eval and trainer:
the versioned topic taxonomy, the deterministic rule tagger, the training-example format and
its validator."""
