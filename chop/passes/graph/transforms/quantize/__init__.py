"""MASE's ``chop.passes.graph.transforms.quantize`` package: the quantise pass and MASE's paths.

``quantize.py`` holds the pass. The twins and the per-node config live one layer down, in
:mod:`chop.quantized`; ``quantized_modules`` (and ``quantized_modules.linear``) and
``quantized_functions`` re-export them under MASE's and earlier saved graphs' paths, and
``quantizers`` is MASE's path to the quantiser functions of :mod:`chop.quantizers`.
"""

from chop.passes.graph.transforms.quantize import quantized_modules, quantizers
from chop.passes.graph.transforms.quantize.quantize import (
    check_node_config,
    quantizable_nodes,
    quantize_transform_pass,
)

__all__ = ["check_node_config", "quantizable_nodes", "quantize_transform_pass", "quantized_modules", "quantizers"]
