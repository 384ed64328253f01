"""Intermediate representation: MaseGraph over torch.fx."""

from chop.ir.graph import MaseGraph

__all__ = ["MaseGraph"]
