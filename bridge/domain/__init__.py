"""The bridge's vocabulary and pure rules: no I/O, no store, no adapter."""
