"""The training methods: SFT, distillation (off- and on-policy) and RLVR, each a loop over the
training-backend protocol."""
