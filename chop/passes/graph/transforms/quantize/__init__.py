"""MASE's ``chop.passes.graph.transforms.quantize`` package: the quantise pass and its twins.

``quantize.py`` holds the pass, ``quantize_config.py`` the per-node config parsing,
``quantized_modules`` and ``quantized_functions.py`` the quantised twins, ``quantizers`` MASE's path
to the quantiser functions of :mod:`chop.quantizers`.
"""

from chop.passes.graph.transforms.quantize import quantized_modules, quantizers
from chop.passes.graph.transforms.quantize.quantize import (
    check_node_config,
    quantizable_nodes,
    quantize_transform_pass,
)

__all__ = ["check_node_config", "quantizable_nodes", "quantize_transform_pass", "quantized_modules", "quantizers"]
