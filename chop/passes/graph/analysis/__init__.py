"""Analysis passes: metadata, reports, statistics, costs (one pass per file)."""
