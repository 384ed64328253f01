"""The stacked fast path's eligibility: which models train as stacked ``(K, ...)`` tensors.

A model qualifies when it is exactly a chain of ``Linear`` / ``BatchNorm1d`` / ``ReLU`` modules on
flat inputs, each applied to the previous one's output, and those modules own every parameter.
For such a chain ``plan_for`` returns its ``StackedPlan``: the flat parameter layout
(``flat_params.py``), the layers in order and the BatchNorm running statistics. The rest of the path:
the hand-written forward/backward (``stacked_layers.py``), the training loop, eager or compiled
(``stacked_loop.py``), and the group that holds the tensors (``stacked_group.py``); the optimiser
step (``flat_optimizer.py``) is shared with the vmap path.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from chop.engine.flat_params import ParamLayout
from chop.models.input_shape import input_shape_of
from chop.tools.logger import get_logger

log = get_logger(__name__)

# What tracing raises when a model's forward uses a traced value as a Python value: control flow or
# iteration (TraceError), ``int``/``float``/``range`` of it (TypeError), ``len`` of it (RuntimeError).
FX_TRACE_ERRORS = (torch.fx.proxy.TraceError, TypeError, RuntimeError)


@dataclass(frozen=True)
class Layer:
    """One layer of the chain: ``kind`` is linear, batchnorm or relu; ``prefix`` its module path."""

    kind: str
    prefix: str
    eps: float = 0.0
    momentum: float = 0.0
    has_bias: bool = True


@dataclass(frozen=True)
class StackedPlan(ParamLayout):
    """The flat layout of a chain's parameters, its layers in call order and its running statistics."""

    layers: tuple[Layer, ...] = ()
    stat_names: tuple[str, ...] = ()    # BatchNorm running_mean / running_var


def _layer_of(name: str, module: nn.Module) -> Layer | None:
    kind = type(module)
    if kind is nn.Linear:
        return Layer("linear", name, has_bias=module.bias is not None)
    if kind is nn.BatchNorm1d:
        if not (module.affine and module.track_running_stats and module.momentum is not None):
            return None
        return Layer("batchnorm", name, eps=float(module.eps), momentum=float(module.momentum))
    if kind is nn.ReLU and not module.inplace:
        return Layer("relu", name)
    return None


def plan_for(model: nn.Module) -> StackedPlan | None:
    """The layer chain of ``model`` if it is exactly a sequence the fast path handles, else None.

    The model is traced with torch.fx; every node between input and output must be a call to one
    of the supported modules on the previous node's output, and every parameter must belong to them.
    Anything else (quantised modules, residual adds, Conv1d, reshapes) takes the vmap or general path.
    """
    if len(input_shape_of(model)) != 1:  # the stacked layers take flat feature rows only
        return None
    try:
        graph = torch.fx.symbolic_trace(model).graph
    except FX_TRACE_ERRORS as error:  # the model's own Python code met a Proxy: it takes another path
        first_line = (str(error).splitlines() or [""])[0]
        log.info("%s takes no stacked path: torch.fx cannot trace it (%s: %s)", type(model).__name__,
                 type(error).__name__, first_line)
        return None
    modules = dict(model.named_modules())
    nodes = list(graph.nodes)
    if len(nodes) < 3 or nodes[0].op != "placeholder" or nodes[-1].op != "output":
        return None
    layers: list[Layer] = []
    previous = nodes[0]
    for node in nodes[1:-1]:
        if node.op != "call_module" or node.args != (previous,) or node.kwargs:
            return None
        layer = _layer_of(str(node.target), modules[str(node.target)])
        if layer is None:
            return None
        layers.append(layer)
        previous = node
    if nodes[-1].args != (previous,):
        return None
    owned = {f"{layer.prefix}.{p}" for layer in layers if layer.kind != "relu" for p in ("weight", "bias")}
    named = list(model.named_parameters())
    if not {name for name, _ in named} <= owned:
        return None
    stats = tuple(f"{layer.prefix}.{s}" for layer in layers if layer.kind == "batchnorm"
                  for s in ("running_mean", "running_var"))
    return StackedPlan(tuple(n for n, _ in named), tuple(tuple(p.shape) for _, p in named), tuple(layers), stats)
