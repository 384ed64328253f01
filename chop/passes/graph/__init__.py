"""Graph passes: analysis, transforms and interface (save/load)."""
