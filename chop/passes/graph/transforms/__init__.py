"""Transform passes: quantisation (one pass per file)."""
