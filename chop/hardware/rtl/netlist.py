"""The prepared graph as the RTL sees it: a list of steps, each a hardware op or a reshape, with shapes.

A prepared fx GraphModule (``chop.passes.graph.transforms.hardware``) has one placeholder, a
``FixedInput`` right after it, ``HardwareOp`` call_modules for the compute, reshapes
(``flatten``/``view``/``reshape``) and one output. Reshapes keep the row-major order of a
sample's elements, so on the packed vectors of the RTL they are wires. Every edge is checked:
the consumer must read the codes in the format the producer writes, since a mismatch would be
a silent numerical error in hardware.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, fx, nn

from chop.errors import HardwareError
from chop.hardware.fixed import FixedFormat
from chop.hardware.ops import FixedAdd, FixedAffine, FixedInput, FixedLinear, HardwareOp
from chop.models.input_shape import declared_input_shape

RESHAPE_FUNCTIONS = (torch.flatten, torch.reshape)
RESHAPE_METHODS = ("flatten", "view", "reshape")
RESHAPE_MODULES = (nn.Flatten, nn.Unflatten, nn.Identity)  # as a hand-built nn.Sequential holds them
PREPARE = "run prepare_hardware_transform_pass on the quantised graph first"


@dataclass(frozen=True)
class Wire:
    """One sample's codes on an edge: the producing node, the sample shape (no batch) and the format."""

    node: str
    shape: tuple[int, ...]
    fmt: FixedFormat

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def bits(self) -> int:
        return self.size * self.fmt.width


@dataclass(frozen=True)
class Step:
    """A node the RTL implements: ``kind`` is the op's component (``fixed_linear``...) or ``reshape``."""

    node: str
    kind: str
    op: HardwareOp | None
    inputs: tuple[Wire, ...]
    out: Wire


@dataclass(frozen=True)
class Netlist:
    input: Wire  # the codes the FixedInput node produces: the RTL's data_in_0
    steps: tuple[Step, ...]  # in graph order
    output: Wire  # the codes the graph returns: the RTL's data_out_0

    @property
    def compute(self) -> tuple[Step, ...]:
        return tuple(step for step in self.steps if step.op is not None)


def _input_formats(op: HardwareOp) -> tuple[FixedFormat, ...]:
    if isinstance(op, FixedAdd):
        return op.a_format, op.b_format
    return (op.in_format,)  # type: ignore[attr-defined]


def _infer_input_shape(gm: fx.GraphModule, first: fx.Node) -> tuple[int, ...]:
    """The sample shape: declared on the module, else the feature count of the first layer."""
    declared = declared_input_shape(gm)
    if declared is not None:
        return declared
    for user in first.users:
        module = gm.get_submodule(str(user.target)) if user.op == "call_module" else None
        if isinstance(module, FixedLinear):
            return (module.weight.shape[1],)
        if isinstance(module, FixedAffine):
            return (module.scale.shape[0],)
    raise HardwareError(f"cannot tell the input shape of the graph from node '{first.name}'; "
                        f"set graph_module.input_shape = (features,)")


class _Shapes(fx.Interpreter):
    """Runs the prepared model on one sample of zeros and records each node's result."""

    def __init__(self, gm: fx.GraphModule) -> None:
        super().__init__(gm)
        self.results: dict[str, Any] = {}

    def run_node(self, n: fx.Node) -> Any:
        result = super().run_node(n)
        self.results[n.name] = result
        return result


def _fixed_input(gm: fx.GraphModule) -> fx.Node:
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    if len(placeholders) != 1:
        raise HardwareError(f"the hardware graph takes one input, this one takes {len(placeholders)}; "
                            f"give the model a single tensor input")
    users = list(placeholders[0].users)
    firsts = [u for u in users if u.op == "call_module" and isinstance(gm.get_submodule(str(u.target)), FixedInput)]
    if len(users) != 1 or not firsts:
        raise HardwareError(f"input '{placeholders[0].name}' does not feed one FixedInput node; {PREPARE}")
    return firsts[0]


def _check_edge(node: fx.Node, wire: Wire, expected: FixedFormat) -> None:
    if wire.fmt != expected:
        raise HardwareError(f"node '{node.name}' reads {expected} but '{wire.node}' writes {wire.fmt}; {PREPARE}")


def _is_reshape(node: fx.Node, module: nn.Module | None) -> bool:
    if module is not None:
        return isinstance(module, RESHAPE_MODULES)
    return (node.op == "call_function" and node.target in RESHAPE_FUNCTIONS) or \
        (node.op == "call_method" and node.target in RESHAPE_METHODS)


def _step(gm: fx.GraphModule, node: fx.Node, inputs: tuple[Wire, ...], result: Tensor) -> Step:
    """The step of one tensor-valued node: a hardware op, or a reshape (a wire)."""
    sample = tuple(result.shape[1:])
    module = gm.get_submodule(str(node.target)) if node.op == "call_module" else None
    if isinstance(module, HardwareOp) and not isinstance(module, FixedInput):
        for wire, fmt in zip(inputs, _input_formats(module), strict=True):
            _check_edge(node, wire, fmt)
        return Step(node.name, module.kind, module, inputs, Wire(node.name, sample, module.out_format))
    if _is_reshape(node, module):
        if len(result.shape) == 0 or result.shape[0] != 1:
            raise HardwareError(f"node '{node.name}' reshapes across the batch dimension; keep dimension 0 as the batch")
        return Step(node.name, "reshape", None, inputs, Wire(node.name, sample, inputs[0].fmt))
    target = getattr(node.target, "__name__", node.target)  # modules were checked: this is a function or method
    raise HardwareError(f"node '{node.name}' ({node.op} {target}) has no hardware twin; {PREPARE}")


def _check_modules(gm: fx.GraphModule, first: fx.Node) -> None:
    """Every called module is a twin or a reshape: found before running the graph on a sample."""
    for node in gm.graph.nodes:
        module = gm.get_submodule(str(node.target)) if node.op == "call_module" else None
        if module is not None and node is not first and (
                isinstance(module, FixedInput) or not isinstance(module, (HardwareOp, *RESHAPE_MODULES))):
            raise HardwareError(f"node '{node.name}' ({type(module).__name__}) has no hardware twin; {PREPARE}")


def build_netlist(gm: fx.GraphModule) -> Netlist:
    """Walk the prepared graph: every compute node must be a ``HardwareOp``, every edge consistent."""
    first = _fixed_input(gm)
    _check_modules(gm, first)
    interpreter = _Shapes(gm)
    interpreter.run(torch.zeros((1, *_infer_input_shape(gm, first)), dtype=torch.float64))
    results = interpreter.results
    wires = {first.name: Wire(first.name, tuple(results[first.name].shape[1:]),
                              gm.get_submodule(str(first.target)).out_format)}
    steps: list[Step] = []
    output: Wire | None = None
    for node in gm.graph.nodes:
        if node.op == "output":
            source = node.args[0]
            if not isinstance(source, fx.Node) or source.name not in wires:
                raise HardwareError("the hardware graph must return one tensor; return a single output")
            output = wires[source.name]
        elif node.op != "placeholder" and node is not first and isinstance(results[node.name], Tensor):
            # values that are no tensors (x.size(0), an argument of a view) need no hardware
            inputs = tuple(wires[a.name] for a in node.args if isinstance(a, fx.Node) and a.name in wires)
            step = _step(gm, node, inputs, results[node.name])
            steps.append(step)
            wires[node.name] = step.out
    if output is None:
        raise HardwareError("the hardware graph has no output")
    return Netlist(wires[first.name], tuple(steps), output)
