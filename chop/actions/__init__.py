"""One module per CLI command; see ``chop.cli`` for the contract each module follows."""
