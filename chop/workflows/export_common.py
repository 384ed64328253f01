"""What the ONNX and QONNX exports of a quantised graph share: the walk, float32 exactness, the check, the write.

Both write the *prepared* graph of ``chop.hardware`` (its fixed-point twins, whose integer
reference the RTL matches) node by node with ``onnx.helper``: a linear is ``MatMul`` + ``Add``, an
affine (a BatchNorm that did not fold) ``Mul`` + ``Add``, a ReLU ``Relu``, a residual add ``Add``,
each followed by a requantisation to the twin's output format. A target says how it stores a
constant's integer codes and how it requantises (``PreparedOnnxGraph.quantised_constant`` and
``requantized``: QDQ for ONNX, ``Quant`` for QONNX); everything else is here.

The peer runtimes compute in float32, so a graph is exact only where every value, constant and
accumulator (with its partial sums, in any summation order) fits float32's 24-bit significand:
``check_exact`` and ``check_products`` turn anything wider into a one-line ``ExportError`` naming
the node and format. The check of an export is ``compare``: the peer's outputs against machop's
(the integer reference, or the float model) on every test row.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, fx, nn

from chop.errors import ExportError, HardwareError
from chop.hardware.fixed import FixedFormat
from chop.hardware.ops import FixedAdd, FixedAffine, FixedInput, FixedLinear, FixedReLU, HardwareOp
from chop.hardware.prepare import linear_bounds
from chop.ir.graph.mase_graph import MaseGraph
from chop.quantized import QuantizedModule
from chop.tools.atomic import atomic_write, atomic_write_text
from chop.tools.modes import eval_mode
from chop.tools.versions import replacing
from chop.workflows.hardware import HardwareOptions, prepare_graph

FLOAT32_BITS = 24  # float32's significand: integers up to 2^24 are exact
INPUT, OUTPUT = "x", "y"
SUMMARY_FILE = "summary.json"


def where_is(node: fx.Node, module: nn.Module) -> str:
    """``node 'seq_blocks_2' (fixed_linear)``: how export errors name a prepared node."""
    kind = module.kind if isinstance(module, HardwareOp) else type(module).__name__
    return f"node '{node.name}' ({kind})"


def check_exact(fmt: FixedFormat, where: str, operand: str, target: str) -> None:
    """``fmt``'s codes must be exact in float32; ``target`` (``ONNX``, ``QONNX``) is named in the error."""
    if fmt.width > FLOAT32_BITS:
        raise ExportError(f"{where}: the {operand} format {fmt} has no exact {target} float32 form (at most "
                          f"{FLOAT32_BITS} bits); use narrower weights or inputs")


def check_products(weight: Tensor, in_format: FixedFormat, where: str) -> None:
    """Every partial sum of ``x @ W^T`` (before the bias) must be exact in float32 (any summation order)."""
    low, high = linear_bounds(weight, torch.zeros(len(weight), dtype=torch.int64), in_format, 0)
    if max(-low, high) > 2**FLOAT32_BITS:
        raise ExportError(f"{where}: its products reach {max(-low, high):,} codes, more than float32 holds exactly "
                          f"(2^{FLOAT32_BITS}); use narrower weights or inputs")


def constant_format(codes: Tensor, frac: int) -> FixedFormat:
    """The narrowest format holding constant ``codes`` at ``frac`` (a bias or shift at the accumulator's frac)."""
    return FixedFormat.holding(min(0, int(codes.min())), max(0, int(codes.max())), frac)


class PreparedOnnxGraph:
    """The ONNX nodes and initializers of one prepared graph; a target subclass stores constants and requantises.

    ``target`` names the export in errors (``ONNX``, ``QONNX``).
    """

    target = ""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []

    def constant(self, name: str, array: np.ndarray) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def op(self, op: str, inputs: list[str], output: str, domain: str = "", **attributes: Any) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, [output], name=output, domain=domain or None, **attributes))
        return output

    def quantised_constant(self, name: str, codes: Tensor, fmt: FixedFormat, where: str) -> str:
        """A constant of integer ``codes`` of ``fmt``, as a float32 value of the graph named ``name``."""
        raise NotImplementedError

    def requantized(self, value: str, name: str, source: FixedFormat | None, target: FixedFormat, where: str,
                    output_only: bool) -> str:
        """``value`` (exact on ``source``'s grid; real where None) moved to ``target``: round half to even, saturate.

        ``output_only``: only the graph output reads the value (it keeps its exact format there).
        """
        raise NotImplementedError

    def linear(self, value: str, name: str, module: FixedLinear, where: str, output_only: bool) -> str:
        check_products(module.weight, module.in_format, where)
        check_exact(module.acc_format, where, "accumulator", self.target)
        weight = self.quantised_constant(f"{name}.weight", module.weight.T.contiguous(), module.weight_format, where)
        acc = self.op("MatMul", [value, weight], f"{name}.products")
        bias = self.quantised_constant(f"{name}.bias", module.bias,
                                       constant_format(module.bias, module.acc_format.frac), where)
        acc = self.op("Add", [acc, bias], f"{name}.acc")
        return self.requantized(acc, name, module.acc_format, module.out_format, where, output_only)

    def affine(self, value: str, name: str, module: FixedAffine, where: str, output_only: bool) -> str:
        check_products(module.scale.unsqueeze(1), module.in_format, where)
        check_exact(module.acc_format, where, "accumulator", self.target)
        scale = self.quantised_constant(f"{name}.scale_factor", module.scale, module.scale_format, where)
        shift = self.quantised_constant(f"{name}.shift", module.shift,
                                        constant_format(module.shift, module.acc_format.frac), where)
        acc = self.op("Add", [self.op("Mul", [value, scale], f"{name}.products"), shift], f"{name}.acc")
        return self.requantized(acc, name, module.acc_format, module.out_format, where, output_only)

    def relu(self, value: str, name: str, module: FixedReLU, where: str, output_only: bool) -> str:
        relu = self.op("Relu", [value], f"{name}.relu")
        return self.requantized(relu, name, module.in_format, module.out_format, where, output_only)

    def add(self, values: list[str], name: str, module: FixedAdd, where: str, output_only: bool) -> str:
        check_exact(module.acc_format, where, "accumulator", self.target)
        total = self.op("Add", values, f"{name}.acc")
        return self.requantized(total, name, module.acc_format, module.out_format, where, output_only)


def write_prepared(module: fx.GraphModule, graph: PreparedOnnxGraph) -> None:
    """Walk ``module`` (a prepared graph) in order, adding each twin's nodes to ``graph``; input ``x``, output ``y``."""
    names: dict[fx.Node, str] = {}
    for node in module.graph.nodes:
        if node.op == "placeholder":
            names[node] = INPUT
            continue
        if node.op == "output":
            graph.op("Identity", [names[node.args[0]]], OUTPUT)
            continue
        called = module.get_submodule(str(node.target)) if node.op == "call_module" else None
        if not isinstance(called, HardwareOp):
            raise ExportError(f"node '{node.name}' ({node.op} {getattr(node.target, '__name__', node.target)}) has no "
                              f"{graph.target} form in machop's quantised export; only the hardware twins do")
        where, inputs = where_is(node, called), [names[arg] for arg in node.args]
        output_only = all(user.op == "output" for user in node.users)
        if isinstance(called, FixedInput):
            names[node] = graph.requantized(inputs[0], node.name, None, called.out_format, where, output_only)
        elif isinstance(called, FixedLinear):
            names[node] = graph.linear(inputs[0], node.name, called, where, output_only)
        elif isinstance(called, FixedAffine):
            names[node] = graph.affine(inputs[0], node.name, called, where, output_only)
        elif isinstance(called, FixedReLU):
            names[node] = graph.relu(inputs[0], node.name, called, where, output_only)
        elif isinstance(called, FixedAdd):
            names[node] = graph.add(inputs, node.name, called, where, output_only)
        else:
            raise ExportError(f"{where} has no {graph.target} form in machop's quantised export")


def output_shape(module: fx.GraphModule, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of one row of ``module``'s output, for rows of ``input_shape``."""
    with torch.no_grad(), eval_mode(module):
        return tuple(module(torch.zeros((1, *input_shape), dtype=torch.float64)).shape[1:])


def is_quantised(graph: MaseGraph) -> bool:
    """Whether any module of ``graph`` is one of machop's quantised twins."""
    return any(isinstance(module, QuantizedModule) for module in graph.model.modules())


def prepared_for_export(quantised: MaseGraph, options: HardwareOptions, target: str) -> MaseGraph:
    """The prepared graph of ``quantised``; the preparation's errors become ``ExportError``s naming ``target``."""
    try:
        prepared, _ = prepare_graph(quantised, options)
    except HardwareError as error:
        raise ExportError(f"quantised {target} export (through the hardware preparation): {error}") from None
    return prepared


@dataclass(frozen=True)
class Comparison:
    """A peer runtime's outputs against machop's on ``rows`` test rows.

    ``tolerance`` 0.0 means exact (quantised); ``mismatching_rows`` counts rows with an output
    further than ``tolerance`` from machop's or a different argmax. The accuracies are the
    peer's and machop's on the test labels.
    """

    rows: int
    tolerance: float
    max_abs_difference: float
    argmax_agreement: float
    mismatching_rows: int
    peer_accuracy: float
    machop_accuracy: float

    def as_json(self, peer: str) -> dict[str, Any]:
        """The fields for ``summary.json``, the peer's accuracy named after it (``onnx_accuracy``, ...)."""
        return {f"{peer}_accuracy" if key == "peer_accuracy" else key: value for key, value in asdict(self).items()}


def compare(peer_out: np.ndarray, machop_out: Tensor, y: Tensor, tolerance: float) -> Comparison:
    """How ``peer_out`` and ``machop_out`` (one row per test row) differ, and their accuracies on labels ``y``."""
    ours = machop_out.detach().to(torch.float64).reshape(len(y), -1)
    theirs = torch.as_tensor(peer_out, dtype=torch.float64).reshape(len(y), -1)
    difference = (theirs - ours).abs()
    same_class = theirs.argmax(dim=1) == ours.argmax(dim=1)
    differing = (difference > tolerance).any(dim=1) | ~same_class
    return Comparison(len(y), tolerance, float(difference.max()), float(same_class.double().mean()),
                      int(differing.sum()), float((theirs.argmax(dim=1) == y).double().mean()),
                      float((ours.argmax(dim=1) == y).double().mean()))


def write_export(export_dir: Path, model_file: str, model: bytes, summary: Mapping[str, Any]) -> Path | None:
    """Write ``model`` and ``summary.json`` into ``export_dir``, an earlier export there moved aside first.

    Returns where the earlier export went (None when there was none); a failed write puts it back.
    """
    with replacing(export_dir) as kept:
        atomic_write(export_dir / model_file, lambda handle: handle.write(model))
        atomic_write_text(export_dir / SUMMARY_FILE, json.dumps(dict(summary), indent=2) + "\n")
    return kept
