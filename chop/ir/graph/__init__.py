"""MaseGraph and its node metadata."""
