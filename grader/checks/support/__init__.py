"""Shared helpers of the check modules: trusted worker processes for Keras and LiteRT, the C-array harness."""
