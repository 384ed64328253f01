"""Datasets: JSC loaders, the bundled jsc-pythia sample, and the offline generator."""
