"""``prepare``: a quantised GraphModule becomes a new GraphModule of hardware twins.

Every edge carries the format of its consumer's ``data_in`` quantiser: that is the requantisation
the fake-quantised model applies when the value enters the consumer, so the producer's twin does
it (``out_format``) and the consumer's twin computes on those codes (``in_format``). A value that
reaches the graph output keeps its producer's exact format (the accumulator of a linear, the
input format of a relu); one read by both a layer and the output carries the layer's ``data_in``
format. The graph input takes the consumers' ``data_in`` format, or ``input_format`` where given
(what the hardware's input port carries; the first layers then compute on those codes).

A ``conv1d`` becomes a ``FixedLinear`` over the flattened ``(C, L)`` sample (``conv``: its matrix
holds the weights at the taps and 0 elsewhere), between a ``torch.flatten`` and a ``view`` back to
``(C_out, L_out)``: the codes keep torch's row-major order, so nothing else changes. Batch norms,
where ``fold_batchnorm``, merge into the linear or conv they directly follow (it has no other
user) or directly precede (the batch norm has no other user), channel ``c`` scaling the rows (or
columns) of channel ``c``; the rest become a ``FixedAffine`` (per channel, dimension 1). Derived constants and their formats (see ``info["nodes"][name]["formats"]``,
where each operand says where its format came from):

- a folded linear is folded from the float master weights and the batch norm's running
  statistics, with gamma/beta as the batch norm's quantisation entry quantises them (float ones
  where it has none); its weights keep the linear's ``weight`` entry width (and sign), with the
  most fraction bits at which none saturates; its bias is exact at the accumulator's frac;
- an affine's scale ``gamma / sqrt(var + eps)`` keeps the batch norm's ``weight`` entry width the
  same way; its shift ``beta - mean * scale`` (with the quantised scale) is exact at the
  accumulator's frac;
- a plain linear's weight and bias are its entry's formats, the bias moved exactly to the
  accumulator's frac ``max(in.frac + weight.frac, bias.frac)``;
- every accumulator is the narrowest format holding its exact bounds (``precision``).

The user's graph is only read: no module, parameter or node of it changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, fx, nn

from chop.errors import HardwareError
from chop.hardware.fixed import MAX_ACCUMULATOR_WIDTH, FixedFormat
from chop.hardware.ops import FixedAdd, FixedAffine, FixedInput, FixedLinear, FixedReLU, HardwareOp
from chop.hardware.prepare.constants import fitting_format, stored_format
from chop.hardware.prepare.conv import Conv1dGeometry, affine_per_position, conv1d_geometry, conv1d_matrix, per_position
from chop.hardware.prepare.fold import Affine, batch_norm_affine, fold_batch_norms, fold_pairs
from chop.hardware.prepare.precision import accumulator_format, add_bounds, affine_bounds, linear_bounds
from chop.hardware.prepare.roles import COMPUTE_OPS, LINEAR_OPS, Role, node_roles
from chop.models.input_shape import declared_input_shape
from chop.tools.modes import eval_mode

INPUT_NODE = "fixed_input"


@dataclass(frozen=True)
class Preparation:
    """The prepared GraphModule and what preparation did (``info``: JSON-friendly)."""

    module: fx.GraphModule
    info: dict[str, Any]


@dataclass
class _Layer:
    """One twin to build: its core node plus the batch norms folded into it (linear only)."""

    core: Role
    before: Role | None = None
    after: Role | None = None

    @property
    def head(self) -> Role:
        """The node whose inputs the layer reads (and whose ``data_in`` quantiser formats them)."""
        return self.before or self.core

    @property
    def tail(self) -> fx.Node:
        """The node whose value the layer produces."""
        return (self.after or self.core).node

    @property
    def name(self) -> str:
        return self.core.node.name

    @property
    def sources(self) -> list[str]:
        return [role.node.name for role in (self.before, self.core, self.after) if role is not None]


@dataclass
class _Formats:
    """Operand -> (format, where it came from), for ``info``."""

    entries: dict[str, tuple[FixedFormat, str]] = field(default_factory=dict)

    def add(self, operand: str, fmt: FixedFormat, source: str) -> FixedFormat:
        self.entries[operand] = (fmt, source)
        return fmt

    def as_info(self) -> dict[str, dict[str, Any]]:
        return {operand: {"format": fmt.as_list(), "source": source} for operand, (fmt, source) in self.entries.items()}


def prepare(graph_module: fx.GraphModule, input_format: FixedFormat | None = None,
            fold_batchnorm: bool = True) -> Preparation:
    """The hardware form of ``graph_module`` (a quantised graph), and ``info`` on what changed."""
    roles = node_roles(graph_module)
    layers = _plan(roles, fold_batchnorm)
    planner = _EdgeFormats(roles, layers, input_format, _conv_geometries(graph_module, roles))
    new = fx.Graph()
    env: dict[fx.Node, fx.Node] = {}
    modules: dict[str, nn.Module] = {}
    nodes_info: dict[str, Any] = {}
    by_tail = {layer.tail: layer for layer in layers}
    for node, role in roles.items():
        if role.op == "placeholder":
            placeholder = new.node_copy(node)
            fmt, source = planner.input_format()
            modules[INPUT_NODE] = FixedInput(fmt)
            env[node] = new.call_module(INPUT_NODE, (placeholder,))
            nodes_info[INPUT_NODE] = {"kind": FixedInput.kind, "from": [node.name],
                                      "formats": {"data_out_0": {"format": fmt.as_list(), "source": source}}}
        elif role.op == "reshape":
            env[node] = _copy_reshape(new, role, env)
        elif role.op == "output":
            new.output(fx.map_arg(node.args[0], env.__getitem__))
        elif node in by_tail:
            layer = by_tail[node]
            twin, formats = _twin(layer, planner)
            modules[layer.name] = twin
            env[node] = _call_layer(new, layer, planner, tuple(env[arg] for arg in _data_args(layer.head)))
            nodes_info[layer.name] = {"kind": twin.kind, "from": layer.sources, "formats": formats.as_info()}
    prepared = fx.GraphModule(modules, new, type(graph_module).__name__)
    if hasattr(graph_module, "input_shape"):
        prepared.input_shape = graph_module.input_shape
    prepared.eval()
    info = {
        "input": nodes_info[INPUT_NODE]["formats"]["data_out_0"],
        "folded": [{"batch_norm": bn.node.name, "into": layer.name, "side": side}
                   for layer in layers for side, bn in (("before", layer.before), ("after", layer.after)) if bn],
        "affine": [layer.name for layer in layers if layer.core.op == "batch_norm1d"],
        "lowered": [{"node": layer.name, "op": "conv1d", "matrix": list(modules[layer.name].weight.shape)}
                    for layer in layers if layer.core.op == "conv1d"],
        "nodes": nodes_info,
    }
    return Preparation(prepared, info)


def _plan(roles: dict[fx.Node, Role], fold: bool) -> list[_Layer]:
    """The layers in graph order: batch norms folded into a neighbouring linear where allowed."""
    sides: dict[tuple[fx.Node, str], Role] = {}  # (linear node, side) -> the batch norm it absorbs
    if fold:
        for pair in fold_pairs(list(roles), lambda node: roles[node].op, LINEAR_OPS):
            sides[(pair.linear, pair.side)] = roles[pair.batch_norm]
    folded = {role.node for role in sides.values()}
    return [_Layer(role, sides.get((node, "before")), sides.get((node, "after"))) for node, role in roles.items()
            if role.op in COMPUTE_OPS and node not in folded]


def _conv_geometries(graph_module: fx.GraphModule, roles: dict[fx.Node, Role]) -> dict[fx.Node, Conv1dGeometry]:
    """The geometry of every conv1d node: its input length comes from one run of the graph on a zero sample."""
    convs = [role for role in roles.values() if role.op == "conv1d"]
    if not convs:
        return {}
    shape = declared_input_shape(graph_module)
    if shape is None:
        raise HardwareError(f"{convs[0].where}: the length of its input is unknown; give the graph its sample "
                            f"shape (graph_module.input_shape = (channels, length))")
    lengths: dict[fx.Node, int] = {}

    class _Lengths(fx.Interpreter):
        def run_node(self, n: fx.Node) -> Any:
            if n in roles and roles[n].op == "conv1d":
                lengths[n] = int(self.env[n.args[0]].shape[-1])  # type: ignore[index]
            return super().run_node(n)

    with torch.no_grad(), eval_mode(graph_module):  # eval: no BatchNorm statistic of the user's graph changes
        _Lengths(graph_module).run(torch.zeros((1, *shape)))
    geometries = {}
    for role in convs:
        assert isinstance(role.module, nn.Conv1d)
        geometries[role.node] = conv1d_geometry(role.module, lengths[role.node], role.where)
    return geometries


def _call_layer(new: fx.Graph, layer: _Layer, edges: _EdgeFormats, args: tuple[fx.Node, ...]) -> fx.Node:
    """The twin's call in the new graph; a lowered conv reads the flattened sample and is viewed back as (C, L)."""
    geometry = edges.geometries.get(layer.core.node)
    if geometry is None:
        return new.call_module(layer.name, args)
    flat = new.create_node("call_function", torch.flatten, (args[0], 1), name=f"{layer.name}_flatten")
    linear = new.call_module(layer.name, (flat,))
    return new.create_node("call_method", "view", (linear, -1, geometry.out_channels, geometry.out_length),
                           name=f"{layer.name}_view")


def _data_args(role: Role) -> tuple[fx.Node, ...]:
    """The graph values a layer reads: its data inputs (two for ``add``, else one)."""
    count = 2 if role.op == "add" else 1
    return tuple(role.node.args[:count])  # type: ignore[arg-type]  (roles checked they are nodes)


class _EdgeFormats:
    """The format of each edge: what the consumers' ``data_in`` quantisers ask for."""

    def __init__(self, roles: dict[fx.Node, Role], layers: list[_Layer], input_format: FixedFormat | None,
                 geometries: dict[fx.Node, Conv1dGeometry]) -> None:
        self.roles = roles
        self.geometries = geometries
        self.heads = {layer.head.node: layer for layer in layers}
        self.option = input_format
        self.placeholder = next(node for node, role in roles.items() if role.op == "placeholder")

    def _consumers(self, value: fx.Node) -> list[_Layer]:
        """The layers that read ``value``, looking through reshapes."""
        found = []
        for user in value.users:
            if self.roles[user].op == "reshape" and user.args[0] is value:  # not a size() it only reads
                found.extend(self._consumers(user))
            elif user in self.heads:
                found.append(self.heads[user])
        return found

    def data_in(self, layer: _Layer) -> FixedFormat:
        return FixedFormat.of_quantizer(layer.head.quantizer("data_in"), layer.head.where)

    def requested(self, producer: fx.Node) -> tuple[FixedFormat, str] | None:
        """What the consumers of ``producer``'s value ask for; None when only the output reads it."""
        if producer is self.placeholder and self.option is not None:
            return self.option, "input_format option"
        consumers = self._consumers(producer)
        formats = {layer.head.node.name: self.data_in(layer) for layer in consumers}
        if len(set(formats.values())) > 1:
            shown = ", ".join(f"'{name}' {fmt}" for name, fmt in formats.items())
            raise HardwareError(f"node '{producer.name}' feeds nodes with different data_in formats ({shown}); "
                                f"give them the same data_in width, frac_width and signedness")
        if not formats:
            return None
        name, fmt = next(iter(formats.items()))
        return fmt, f"data_in entry of '{name}'"

    def producer(self, value: fx.Node) -> fx.Node:
        """The node that computes ``value`` (reshapes only move it)."""
        while self.roles[value].op == "reshape":
            value = value.args[0]  # type: ignore[assignment]
        return value

    def operand(self, value: fx.Node) -> tuple[FixedFormat, str]:
        """The format of a value a layer reads (its producer's out format)."""
        found = self.requested(self.producer(value))
        assert found is not None  # the reading layer is a consumer
        return found

    def input_format(self) -> tuple[FixedFormat, str]:
        found = self.requested(self.placeholder)
        if found is None:
            raise HardwareError(f"the graph input '{self.placeholder.name}' reaches the output without a quantised "
                                f"node; give the input format (input_format = [width, frac])")
        return found

    def out(self, layer: _Layer, exact: FixedFormat, what: str) -> tuple[FixedFormat, str]:
        found = self.requested(layer.tail)
        return found if found is not None else (exact, f"exact: {what} (the value reaches the output)")


def _twin(layer: _Layer, edges: _EdgeFormats) -> tuple[HardwareOp, _Formats]:
    formats = _Formats()
    inputs = [edges.operand(value) for value in _data_args(layer.head)]
    in_format = formats.add("data_in_0", *inputs[0])
    if layer.core.op == "relu":
        out, source = edges.out(layer, in_format, "the input format")
        return FixedReLU(in_format, formats.add("data_out_0", out, source)), formats
    if layer.core.op == "add":
        b_format = formats.add("data_in_1", *inputs[1])
        frac = max(in_format.frac, b_format.frac)
        acc = accumulator_format(layer.core.where, *add_bounds(in_format, b_format, frac), frac)
        formats.add("accumulator", acc, "derived: exact bounds of the sum")
        out, source = edges.out(layer, acc, "the accumulator")
        return FixedAdd(in_format, b_format, acc, formats.add("data_out_0", out, source)), formats
    if layer.core.op == "batch_norm1d":
        return _affine(layer, edges, in_format, formats), formats
    return _linear(layer, edges, in_format, formats), formats  # linear, or conv1d lowered to one


def _gamma_beta(role: Role) -> tuple[Tensor | None, Tensor | None]:
    """The batch norm's gamma and beta as its quantisation entry quantises them (float ones without an entry)."""
    bn = role.module
    assert isinstance(bn, nn.BatchNorm1d)
    values = []
    for operand, value in (("weight", bn.weight), ("bias", bn.bias)):
        quantizer = role.quantizers.get(operand)
        values.append(None if value is None else (quantizer(value.detach()) if quantizer is not None else value.detach()))
    return values[0], values[1]


def _folded_affine(role: Role | None) -> Affine | None:
    if role is None:
        return None
    assert isinstance(role.module, nn.BatchNorm1d)
    return batch_norm_affine(role.module, role.node.name, *_gamma_beta(role))


def _exact_codes(where: str, values: Tensor, frac: int) -> Tensor:
    """Codes of ``values`` at ``frac`` (round half to even), unsaturated: the accumulator's bounds include them."""
    scaled = torch.round(values.to(torch.float64) * 2.0**frac)
    largest = float(scaled.abs().max()) if scaled.numel() else 0.0
    if largest >= 2.0**MAX_ACCUMULATOR_WIDTH:
        raise HardwareError(f"{where}: the accumulator needs more than {MAX_ACCUMULATOR_WIDTH} bits, the most the "
                            f"integer reference computes exactly, to hold a constant of {largest:.3g} codes at "
                            f"frac {frac}; use narrower weights or inputs")
    return scaled.to(torch.int64)


@dataclass(frozen=True)
class _Matrix:
    """A layer as ``W x + b`` in float (a conv lowered), with its neighbouring batch norms mapped to W's columns/rows."""

    weight: Tensor  # (out, in)
    bias: Tensor | None  # (out,)
    before: Affine | None
    after: Affine | None


def _matrix(layer: _Layer, edges: _EdgeFormats) -> _Matrix:
    """The float matrix a linear or conv1d layer computes; a conv's per-channel values repeat along its positions."""
    module, before, after = layer.core.module, _folded_affine(layer.before), _folded_affine(layer.after)
    if isinstance(module, nn.Linear):
        return _Matrix(module.weight.detach(), None if module.bias is None else module.bias.detach(), before, after)
    assert isinstance(module, nn.Conv1d)
    geometry = edges.geometries[layer.core.node]
    bias = None if module.bias is None else per_position(module.bias.detach(), geometry.out_length)
    return _Matrix(conv1d_matrix(module.weight.detach(), geometry), bias,
                   affine_per_position(before, geometry.in_length), affine_per_position(after, geometry.out_length))


def _linear(layer: _Layer, edges: _EdgeFormats, in_format: FixedFormat, formats: _Formats) -> FixedLinear:
    core = layer.core
    linear = _matrix(layer, edges)
    weight_entry = FixedFormat.of_quantizer(core.quantizer("weight"), f"{core.where} weight")
    bias_source = None
    if layer.before is None and layer.after is None:
        weight_format = formats.add("weight", weight_entry, f"weight entry of '{core.node.name}'")
        weight = weight_format.quantize(linear.weight)
        acc_frac = in_format.frac + weight_format.frac
        if linear.bias is None:
            bias = torch.zeros(linear.weight.shape[0], dtype=torch.int64)
        else:
            bias_entry = FixedFormat.of_quantizer(core.quantizer("bias"), f"{core.where} bias")
            acc_frac = max(acc_frac, bias_entry.frac)
            bias = bias_entry.quantize(linear.bias) << (acc_frac - bias_entry.frac)
            bias_source = f"bias entry of '{core.node.name}' ({bias_entry}), moved exactly to the accumulator's frac"
    else:
        folded, offset = fold_batch_norms(linear.weight, linear.bias, linear.before, linear.after)
        weight_format = formats.add("weight", fitting_format(folded, weight_entry.width, weight_entry.signed,
                                                             weight_entry.frac),
                                    f"derived: width of the weight entry of '{core.node.name}', the most fraction "
                                    f"bits at which no folded weight saturates")
        weight = weight_format.quantize(folded)
        acc_frac = in_format.frac + weight_format.frac
        bias = _exact_codes(core.where, offset, acc_frac)
        bias_source = "derived: the folded bias, exact at the accumulator's frac"
    shift = acc_frac - in_format.frac - weight_format.frac
    acc = accumulator_format(core.where, *linear_bounds(weight, bias, in_format, shift), acc_frac)
    if bias_source is not None:
        formats.add("bias", stored_format(bias, acc_frac), bias_source)
    formats.add("accumulator", acc, "derived: exact bounds over the input format's codes")
    out, source = edges.out(layer, acc, "the accumulator")
    return FixedLinear(weight, bias, in_format, weight_format, acc, formats.add("data_out_0", out, source))


def _affine(layer: _Layer, edges: _EdgeFormats, in_format: FixedFormat, formats: _Formats) -> FixedAffine:
    role = layer.core
    bn = role.module
    assert isinstance(bn, nn.BatchNorm1d)
    entry = FixedFormat.of_quantizer(role.quantizer("weight"), f"{role.where} weight")
    gamma, beta = _gamma_beta(role)
    affine = batch_norm_affine(bn, role.node.name, gamma, beta)
    scale_format = formats.add("weight", fitting_format(affine.scale, entry.width, entry.signed, entry.frac),
                               f"derived: the scale gamma/sqrt(var+eps), width of the weight entry of "
                               f"'{role.node.name}', the most fraction bits at which no scale saturates")
    scale = scale_format.quantize(affine.scale)
    beta64 = torch.zeros(bn.num_features, dtype=torch.float64) if beta is None else beta.to(torch.float64)
    shift_real = beta64 - bn.running_mean.to(torch.float64) * scale_format.to_real(scale)
    acc_frac = in_format.frac + scale_format.frac
    shift = _exact_codes(role.where, shift_real, acc_frac)
    acc = accumulator_format(role.where, *affine_bounds(scale, shift, in_format, 0), acc_frac)
    formats.add("bias", stored_format(shift, acc_frac),
                "derived: the shift beta - mean*scale (quantised scale), exact at the accumulator's frac")
    formats.add("accumulator", acc, "derived: exact bounds over the input format's codes")
    out, source = edges.out(layer, acc, "the accumulator")
    return FixedAffine(scale, shift, in_format, scale_format, acc, formats.add("data_out_0", out, source))


def _copy_reshape(new: fx.Graph, role: Role, env: dict[fx.Node, fx.Node]) -> fx.Node:
    """A reshape acts on codes unchanged; an ``nn.Flatten`` module becomes ``torch.flatten``."""
    node = role.node
    if isinstance(role.module, nn.Flatten):
        source = env[node.args[0]]  # type: ignore[index]
        return new.call_function(torch.flatten, (source, role.module.start_dim, role.module.end_dim))
    return new.node_copy(node, env.__getitem__)
