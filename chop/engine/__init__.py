"""Training: many independent models of one architecture in a single vectorised program."""
