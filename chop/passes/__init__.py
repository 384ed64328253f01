"""Graph passes (MASE names)."""
