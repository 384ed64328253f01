"""Quantised arithmetic on graphs: per-node configs, the quantised twins, formats read back from a graph.

This layer sits between the number formats (:mod:`chop.quantizers`) and the passes: it imports
only ``chop.quantizers`` and torch, and analysis, transforms, search and reports import it.
``node_config`` parses MASE's flat per-node keys once into a ``NodeQuantConfig``; ``modules`` and
``functions`` hold the twins the quantise pass swaps in; ``graph_formats`` reads the formats of a
quantised graph back from its modules and calls.
"""

from chop.quantized.functions import FUNCTION_OPS
from chop.quantized.graph_formats import arg_formats, node_quantizers, quantized_op
from chop.quantized.modules import QuantizedModule
from chop.quantized.node_config import QUANTIZABLE_OPS, NodeQuantConfig, parse_node_config

__all__ = [
    "FUNCTION_OPS",
    "QUANTIZABLE_OPS",
    "NodeQuantConfig",
    "QuantizedModule",
    "arg_formats",
    "node_quantizers",
    "parse_node_config",
    "quantized_op",
]
