"""Quantisers: pure functions with straight-through gradients (one per file)."""
