"""Interface passes: save and load graphs and node metadata."""
