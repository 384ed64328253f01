"""Which quantiser each operand of a node uses, read from the graph itself.

The quantise pass records formats in the node metadata, but a graph loaded from ``.mz`` without
its ``node_meta.pt``, or re-analysed from scratch, only has the modules and calls. This reads the
formats back from them: a quantised module's ``.quantizers``, a quantised function's ``config``.
Metadata passes call it to fill ``common.args.<arg>.type/precision`` (BitOPs then follow).
"""

from __future__ import annotations

from torch import fx

from chop.quantized.call_config import QuantizedCallConfig
from chop.quantized.functions import QUANTIZED_FUNCTIONS
from chop.quantized.modules import QuantizedModule
from chop.quantizers import Quantizer

_FUNCTION_OPS = {function: op for (op, _), function in QUANTIZED_FUNCTIONS.items()}


def quantized_op(target: object) -> str | None:
    """The mase op of a quantised function (``add`` for ``add_integer``), None for anything else."""
    try:
        return _FUNCTION_OPS.get(target)  # type: ignore[arg-type]
    except TypeError:  # unhashable target
        return None


def node_quantizers(graph_module: fx.GraphModule, node: fx.Node) -> dict[str, Quantizer]:
    """``{"data_in": ..., "weight": ..., "bias": ...}`` for a quantised node; ``{}`` for a float one."""
    if node.op == "call_module":
        module = graph_module.get_submodule(str(node.target))
        return dict(module.quantizers) if isinstance(module, QuantizedModule) else {}
    op = quantized_op(node.target) if node.op == "call_function" else None
    if op is None:
        return {}
    return dict(QuantizedCallConfig.of(op, node.kwargs["config"]).quantizers)


def arg_formats(graph_module: fx.GraphModule, node: fx.Node, args: list[str]) -> dict[str, tuple[str, list[int]]]:
    """``{arg: (type, precision)}`` for the metadata args (``data_in_0``, ``weight``, ...) a quantiser covers."""
    quantizers = node_quantizers(graph_module, node)
    formats = {}
    for arg in args:
        quantizer = quantizers.get("data_in" if arg.startswith("data_in") else arg)
        if quantizer is not None:
            formats[arg] = (quantizer.name, quantizer.precision())
    return formats
