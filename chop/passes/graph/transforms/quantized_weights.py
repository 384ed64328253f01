"""The weights a quantised node really computes with (lab 2: "show the weights are on the grid")."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from chop.errors import PassError
from chop.quantized.modules import QuantizedModule


def get_quantized_weights(graph: Any, node_name: str) -> dict[str, Tensor]:
    """``{"weight": ..., "bias": ...}`` of node ``node_name`` after fake quantisation (detached copies).

    ``graph`` is a MaseGraph (or anything with ``.model``) or a GraphModule.
    """
    model = getattr(graph, "model", graph)
    node = next((n for n in model.graph.nodes if n.name == node_name), None)
    if node is None:
        names = [n.name for n in model.graph.nodes if n.op == "call_module"]
        raise PassError(f"no node named '{node_name}'; module nodes: {', '.join(names)}")
    module = model.get_submodule(str(node.target)) if node.op == "call_module" else None
    if not isinstance(module, QuantizedModule):
        raise PassError(f"node {node_name} is not a quantised module (run quantize_transform_pass on it first)")
    return {name: module.quantize(name, value).detach().clone()
            for name, value in (("weight", getattr(module, "weight", None)), ("bias", getattr(module, "bias", None)))
            if value is not None}
