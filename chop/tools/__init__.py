"""MASE-compatible entry points the lab notebooks import (lab-api §8)."""
