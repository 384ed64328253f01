"""The integer reference of a prepared graph: int64 codes in, int64 codes out, node by node.

A prepared graph computes in two independent ways. Called as a module it is the "prepared
fake-quantised PyTorch" model: float64 reals on each edge's grid. Run by ``IntegerReference`` every
twin's ``integer_forward`` computes on codes instead, with exact integer accumulators, shifts and
round-half-even requantisation: what the RTL does operation for operation. ``mismatches`` counts the
rows where the two disagree (it must be 0); ``accuracy_before_after`` puts the user's quantised
model's accuracy next to the prepared one's, so what preparation changed (folding, derived
constant formats) is visible.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, fx, nn

from chop.errors import HardwareError
from chop.hardware.fixed import FixedFormat
from chop.hardware.ops import HardwareOp
from chop.ir.graph.mase_graph import MaseGraph
from chop.tools.modes import eval_mode

Prepared = MaseGraph | fx.GraphModule
RESHAPE_MODULES = (nn.Flatten, nn.Unflatten, nn.Identity)  # they move codes unchanged


def _module(prepared: Prepared) -> fx.GraphModule:
    return prepared.model if isinstance(prepared, MaseGraph) else prepared


class IntegerReference(fx.Interpreter):
    """Runs a prepared graph on codes: ``integer_forward`` for every twin, reshapes as they are.

    Every called module must be a twin or a reshape module (``nn.Flatten``, ``nn.Unflatten``,
    ``nn.Identity``, as a hand-built chain holds them); that is checked before anything runs (an
    error raised while the interpreter runs would carry fx's multi-line context).
    """

    def __init__(self, module: fx.GraphModule) -> None:
        super().__init__(module)
        for node in module.graph.nodes:
            if node.op == "call_module":
                called = module.get_submodule(str(node.target))
                if not isinstance(called, (HardwareOp, *RESHAPE_MODULES)):
                    raise HardwareError(f"module '{node.target}' ({type(called).__name__}) is no hardware twin; "
                                        f"run prepare_hardware_transform_pass on the quantised graph first")

    def call_module(self, target: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        module = self.fetch_attr(str(target))
        return module.integer_forward(*args, **kwargs) if isinstance(module, HardwareOp) else module(*args, **kwargs)


def integer_reference(prepared: Prepared, x: Tensor) -> Tensor:
    """The int64 output codes of the prepared graph for real inputs ``x`` (its input twin quantises them)."""
    with torch.no_grad():
        return IntegerReference(_module(prepared)).run(x)


def output_format(prepared: Prepared) -> FixedFormat:
    """The format of the graph's output codes: the out format of the twin that produces it."""
    module = _module(prepared)
    output = next(node for node in module.graph.nodes if node.op == "output")
    value = output.args[0]
    while isinstance(value, fx.Node) and value.args and (
            value.op != "call_module" or isinstance(module.get_submodule(str(value.target)), RESHAPE_MODULES)):
        value = value.args[0]  # reshapes pass codes through
    if not isinstance(value, fx.Node) or value.op != "call_module":
        raise HardwareError("the prepared graph's output is not one value computed by a hardware twin")
    producer = module.get_submodule(str(value.target))
    if not isinstance(producer, HardwareOp):
        raise HardwareError(f"the output comes from '{value.target}' ({type(producer).__name__}), no hardware twin")
    return producer.out_format


def prepared_codes(prepared: Prepared, x: Tensor) -> Tensor:
    """The prepared fake-quantised model's output as codes (its reals times 2^frac, exact in float64)."""
    module = _module(prepared)
    with torch.no_grad(), eval_mode(module):
        reals = module(x)
    scaled = reals * 2.0 ** output_format(prepared).frac
    return scaled.to(torch.int64)


def _differing_rows(a: Tensor, b: Tensor) -> Tensor:
    return (a != b).reshape(len(a), -1).any(dim=1)


def mismatches(prepared: Prepared, x: Tensor) -> int:
    """Rows of ``x`` where the prepared fake-quantised model and the integer reference disagree."""
    return int(_differing_rows(prepared_codes(prepared, x), integer_reference(prepared, x)).sum())


def accuracy_before_after(quantised: MaseGraph | nn.Module, prepared: Prepared, x: Tensor, y: Tensor) -> dict[str, Any]:
    """Accuracy of the user's quantised model and of the prepared one on rows ``x`` (labels ``y``).

    ``differing_rows`` lists the rows whose predicted class (argmax) differs between the two.
    """
    model = quantised.model if isinstance(quantised, MaseGraph) else quantised
    with torch.no_grad(), eval_mode(model):
        before = model(x).argmax(dim=1)
    after = integer_reference(prepared, x).argmax(dim=1)
    return {"rows": len(x), "quantised_accuracy": float((before == y).double().mean()),
            "prepared_accuracy": float((after == y).double().mean()),
            "differing_rows": torch.nonzero(before != after).flatten().tolist()}
