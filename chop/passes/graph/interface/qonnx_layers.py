"""The layers of a QONNX MLP: what ``load_qonnx_graph`` reads from the file, node by node, before any torch.

A QONNX graph is read in its (topological) order into ``QonnxLayer``s:

- ``Quant`` of an initializer is a constant: its values are what qonnx's own ``quant`` gives
  (whatever its rounding mode), held as integer codes of a fixed-point format;
- ``Quant`` of a value is a requantisation: machop's quantiser sits at the input of the op that
  reads a value, so its format becomes the ``data_in`` format of every layer reading the result;
- ``MatMul`` / ``Gemm`` by a quantised weight, then optionally ``Add`` of a quantised bias: a linear;
- ``Mul`` by a quantised per-channel constant, then optionally ``Add`` of one: an affine (BatchNorm);
- ``Relu``; ``Add`` of two values (a residual add); ``Identity`` passes a value on.

Every ``Quant`` must have a scalar power-of-two scale (2^-frac), zero point 0 and an integer bit
width; a requantisation also ``narrow = 0`` and rounding ``ROUND``/``HALF_EVEN`` (machop's round half
to even), and not 1 signed bit (bipolar in QONNX). Anything else, an op not listed, a value read
without a ``Quant`` before it and a ``Quant`` of the graph output alone (machop's output keeps its
last op's exact format) are one-line ``ModelError``s naming the node and the value.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from chop.errors import ModelError
from chop.hardware.fixed import FixedFormat

ROUND_HALF_EVEN = ("ROUND", "HALF_EVEN")  # qonnx: both are np.round


@dataclass(frozen=True)
class QuantConstant:
    """A constant after its ``Quant``: integer ``codes`` of ``fmt`` (values = codes x 2^-frac)."""

    codes: torch.Tensor
    fmt: FixedFormat


@dataclass(frozen=True)
class Value:
    """A tensor the graph computes: the layer producing it (None: the graph input) and its ``Quant`` format, if any."""

    layer: str | None
    fmt: FixedFormat | None = None
    quant: str | None = None  # the Quant node that gave it ``fmt``


@dataclass
class QonnxLayer:
    """One op of the MLP: ``kind`` linear, affine, relu or add; ``inputs`` the values it reads, in order."""

    name: str
    kind: str
    inputs: list[Value]
    weight: QuantConstant | None = None  # linear: (out, in); affine: the per-channel scale
    bias: QuantConstant | None = None
    readers: int = 0  # how many ops read its value (a bias Add needs it to be the only one)

    @property
    def data_in(self) -> FixedFormat:
        fmt = self.inputs[0].fmt
        assert fmt is not None  # checked when the layer was read
        return fmt


@dataclass
class QonnxMlp:
    """The layers in graph order, the input's row shape and the value the output reads."""

    layers: list[QonnxLayer] = field(default_factory=list)
    input_shape: tuple[int, ...] = ()
    output: Value | None = None


def _where(node: Any) -> str:
    return f"node '{node.name or node.output[0]}' ({node.op_type})"


def _attributes(node: Any) -> dict[str, Any]:
    from onnx import helper

    return {attribute.name: helper.get_attribute_value(attribute) for attribute in node.attribute}


def _scalar(array: np.ndarray | None, node: Any, what: str) -> float:
    if array is None or array.size != 1:
        shown = "not a constant" if array is None else f"shape {list(array.shape)}"
        raise ModelError(f"{_where(node)}: its {what} must be one constant number ({shown}); machop reads "
                         f"per-tensor power-of-two scales only")
    return float(array.reshape(()))


def quant_format(node: Any, wrapper: Any) -> FixedFormat:
    """The fixed-point format of a ``Quant`` node: scale 2^-frac, zero point 0, its bit width and sign."""
    scale = _scalar(wrapper.get_initializer(node.input[1]), node, "scale")
    zero = _scalar(wrapper.get_initializer(node.input[2]), node, "zero point")
    bits = _scalar(wrapper.get_initializer(node.input[3]), node, "bit width")
    mantissa, exponent = math.frexp(scale)
    if mantissa != 0.5:
        raise ModelError(f"{_where(node)}: scale {scale:g} is not a power of two; machop's fixed-point formats have "
                         f"scales 2^-frac")
    if zero != 0:
        raise ModelError(f"{_where(node)}: zero point {zero:g} is not 0; machop's fixed-point formats have none")
    if not bits.is_integer() or bits < 1:
        raise ModelError(f"{_where(node)}: bit width {bits:g} is not a whole number of bits")
    return FixedFormat(int(bits), 1 - exponent, bool(_attributes(node).get("signed", 1)))


def _rounding_mode(attributes: dict[str, Any]) -> str:
    mode = attributes.get("rounding_mode", "ROUND")  # QONNX's default
    return mode.decode() if isinstance(mode, bytes) else str(mode)


def _requantisation(node: Any, wrapper: Any) -> FixedFormat:
    """The format of a ``Quant`` of a value, which must round and saturate as machop's quantiser does."""
    attributes = _attributes(node)
    fmt = quant_format(node, wrapper)
    mode = _rounding_mode(attributes)
    if mode.upper() not in ROUND_HALF_EVEN:
        raise ModelError(f"{_where(node)}: rounding_mode {mode} is not machop's round half to even (ROUND)")
    if attributes.get("narrow", 0):
        raise ModelError(f"{_where(node)}: narrow = 1 (a range one code short of {fmt}'s) has no machop format; "
                         f"use narrow = 0")
    if fmt.signed and fmt.width == 1:
        raise ModelError(f"{_where(node)}: a 1-bit signed Quant is bipolar (-1, +1), which no machop format is")
    if fmt.frac > fmt.width:
        raise ModelError(f"{_where(node)}: format {fmt} has more fraction bits than bits, which machop's integer "
                         f"quantiser does not take (frac_width <= width)")
    return fmt


def _constant(node: Any, wrapper: Any, values: np.ndarray) -> QuantConstant:
    """A ``Quant`` of an initializer, evaluated by qonnx's own ``quant`` (its rounding, range and sign)."""
    from qonnx.custom_op.general.quant import quant

    attributes = _attributes(node)
    fmt = quant_format(node, wrapper)
    quantised = quant(values.astype(np.float32), *(wrapper.get_initializer(name) for name in node.input[1:]),
                      int(fmt.signed), int(attributes.get("narrow", 0)), _rounding_mode(attributes))
    codes = torch.from_numpy(np.asarray(quantised, dtype=np.float64) * 2.0**fmt.frac).round().to(torch.int64)
    # the codes are fmt's, but machop's integer quantiser needs frac <= width, and a 1-bit signed Quant
    # is bipolar (+-1): hold the same codes in the narrowest format it takes
    width = max(fmt.width, fmt.frac, 2 if fmt.signed and fmt.width == 1 else 1)
    return QuantConstant(codes, FixedFormat(width, fmt.frac, fmt.signed))


def _layer_name(node: Any, taken: set[str]) -> str:
    """A Python identifier for the layer, from the node's name up to its first dot (the exporter's node names)."""
    stem = re.sub(r"\W+", "_", (node.name or node.output[0]).split(".")[0]).strip("_") or node.op_type.lower()
    if stem[0].isdigit() or hasattr(nn.Module, stem):  # a module name must be an identifier and no Module attribute
        stem = f"{node.op_type.lower()}_{stem}"
    name, count = stem, 1
    while name in taken:
        name, count = f"{stem}_{count}", count + 1
    taken.add(name)
    return name


class _Reader:
    """Reads the nodes in order; ``values`` maps each tensor name to what it is."""

    def __init__(self, wrapper: Any) -> None:
        self.wrapper = wrapper
        self.mlp = QonnxMlp()
        self.values: dict[str, Value | QuantConstant] = {}
        self.layers: dict[str, QonnxLayer] = {}
        self.names: set[str] = {"x", "output"}  # the fx graph's input and output nodes
        self.read_quants: set[str] = set()  # Quant nodes whose value an op reads

    def constant(self, name: str) -> np.ndarray | None:
        return self.wrapper.get_initializer(name)

    def value(self, node: Any, tensor: str) -> Value:
        """A value an op reads: it must come out of a ``Quant`` (its format is the op's ``data_in``)."""
        found = self.values.get(tensor)
        if not isinstance(found, Value):
            raise ModelError(f"{_where(node)}: input '{tensor}' is no value of the graph (a constant needs a Quant "
                             f"and fits only as a weight, bias or scale)")
        if found.fmt is None:
            raise ModelError(f"{_where(node)} reads '{tensor}', which no Quant node quantises; machop quantises "
                             f"the input of every op (its data_in format): put a Quant before it")
        if found.quant is not None:
            self.read_quants.add(found.quant)
        if found.layer is not None:
            self.layers[found.layer].readers += 1
        return found

    def quantised(self, node: Any, tensor: str, what: str) -> QuantConstant:
        found = self.values.get(tensor)
        if not isinstance(found, QuantConstant):
            raise ModelError(f"{_where(node)}: its {what} '{tensor}' is not a constant behind a Quant node; machop "
                             f"needs the format of every {what}")
        return found

    def add_layer(self, node: Any, kind: str, inputs: list[Value], **constants: QuantConstant | None) -> None:
        layer = QonnxLayer(_layer_name(node, self.names), kind, inputs, **constants)
        self.mlp.layers.append(layer)
        self.layers[layer.name] = layer
        self.values[node.output[0]] = Value(layer.name)

    def read(self, node: Any) -> None:
        op, inputs = node.op_type, list(node.input)
        if op == "Quant":
            self.quant(node, inputs[0])
        elif op == "Identity":
            self.values[node.output[0]] = self.values[inputs[0]]
        elif op == "Relu":
            self.add_layer(node, "relu", [self.value(node, inputs[0])])
        elif op == "MatMul":
            self.add_layer(node, "linear", [self.value(node, inputs[0])],
                           weight=self.weight(node, inputs[1], transposed=True))
        elif op == "Gemm":
            self.gemm(node, inputs)
        elif op == "Mul":
            scale = self.quantised(node, inputs[1], "scale")
            self.add_layer(node, "affine", [self.value(node, inputs[0])],
                           weight=QuantConstant(scale.codes.reshape(-1), scale.fmt))
        elif op == "Add":
            self.add(node, inputs)
        else:
            raise ModelError(f"{_where(node)} has no machop form; a QONNX MLP of Quant, MatMul/Gemm, Add, Mul, Relu "
                             f"and Identity nodes is read")

    def quant(self, node: Any, source: str) -> None:
        values = self.constant(source)
        if values is not None:
            self.values[node.output[0]] = _constant(node, self.wrapper, values)
            return
        found = self.values.get(source)
        if not isinstance(found, Value):
            raise ModelError(f"{_where(node)}: input '{source}' is no value of the graph")
        if found.fmt is not None:
            raise ModelError(f"{_where(node)} requantises the output of Quant '{found.quant}'; machop rounds once "
                             f"between two ops: remove one of them")
        if found.layer is not None:
            self.layers[found.layer].readers += 1
        self.values[node.output[0]] = Value(found.layer, _requantisation(node, self.wrapper), node.name or node.output[0])

    def weight(self, node: Any, tensor: str, transposed: bool) -> QuantConstant:
        """The weight as (out, in) codes; ``transposed``: the file holds it (in, out), as ``MatMul`` reads it."""
        weight = self.quantised(node, tensor, "weight")
        if weight.codes.dim() != 2:
            raise ModelError(f"{_where(node)}: weight '{tensor}' has shape {list(weight.codes.shape)}; a linear "
                             f"layer's is two-dimensional")
        return QuantConstant(weight.codes.T.contiguous() if transposed else weight.codes, weight.fmt)

    def gemm(self, node: Any, inputs: list[str]) -> None:
        attributes = _attributes(node)
        if attributes.get("transA", 0) or attributes.get("alpha", 1.0) != 1.0 or attributes.get("beta", 1.0) != 1.0:
            raise ModelError(f"{_where(node)}: Gemm with transA, alpha or beta other than 0, 1, 1 has no machop form")
        weight = self.weight(node, inputs[1], transposed=not attributes.get("transB", 0))
        bias = self.quantised(node, inputs[2], "bias") if len(inputs) > 2 and inputs[2] else None
        self.add_layer(node, "linear", [self.value(node, inputs[0])], weight=weight,
                       bias=None if bias is None else QuantConstant(bias.codes.reshape(-1), bias.fmt))

    def add(self, node: Any, inputs: list[str]) -> None:
        found = [self.values.get(tensor) for tensor in inputs]
        if all(isinstance(value, Value) for value in found):
            a, b = (self.value(node, tensor) for tensor in inputs)
            if a.fmt != b.fmt:
                raise ModelError(f"{_where(node)} adds values of formats {a.fmt} and {b.fmt}; machop's add quantises "
                                 f"both inputs with one data_in format: give them the same Quant format")
            self.add_layer(node, "add", [a, b])
            return
        value, bias = (found[0], inputs[1]) if isinstance(found[0], Value) else (found[1], inputs[0])
        layer = self.layers.get(value.layer) if isinstance(value, Value) and value.fmt is None and value.layer else None
        if layer is None or layer.kind not in ("linear", "affine") or layer.bias is not None or layer.readers:
            raise ModelError(f"{_where(node)}: an Add of a constant is read only as the bias of the MatMul, Gemm or "
                             f"Mul right before it")
        constant = self.quantised(node, bias, "bias")
        layer.bias = QuantConstant(constant.codes.reshape(-1), constant.fmt)
        self.values[node.output[0]] = value

    def finish(self, graph: Any) -> QonnxMlp:
        if len(graph.output) != 1:
            raise ModelError(f"the QONNX graph has {len(graph.output)} outputs; machop reads graphs with one")
        output = self.values.get(graph.output[0].name)
        if not isinstance(output, Value) or output.layer is None:
            raise ModelError(f"the graph output '{graph.output[0].name}' is computed by no op machop reads")
        if output.quant is not None and output.quant not in self.read_quants:
            raise ModelError(f"node '{output.quant}' (Quant) requantises the graph output, which machop's graph does "
                             f"not (its output keeps the exact format of its last op); remove it")
        self.mlp.output = output
        return self.mlp


def read_qonnx_mlp(wrapper: Any) -> QonnxMlp:
    """The layers of the QONNX model in ``wrapper`` (a qonnx ``ModelWrapper``)."""
    graph = wrapper.graph
    inputs = [tensor for tensor in graph.input if wrapper.get_initializer(tensor.name) is None]
    if len(inputs) != 1:
        raise ModelError(f"the QONNX graph has {len(inputs)} inputs; machop reads graphs with one")
    reader = _Reader(wrapper)
    reader.values[inputs[0].name] = Value(None)
    dims = inputs[0].type.tensor_type.shape.dim
    reader.mlp.input_shape = tuple(int(dim.dim_value) for dim in dims[1:])
    for node in graph.node:
        reader.read(node)
    return reader.finish(graph)
