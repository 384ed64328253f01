"""Configuration parsed once at the edge into typed values (lab-api §1)."""

from chop.config.mase_args import MaseArgs, add_mase_arguments, resolve_mase_args
from chop.config.toml_file import load_toml

__all__ = ["MaseArgs", "add_mase_arguments", "load_toml", "resolve_mase_args"]
