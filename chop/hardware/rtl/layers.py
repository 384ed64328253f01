"""One SystemVerilog module per layer of the prepared graph, named after its node.

Each layer module holds what is particular to its layer (the constants, the formats as
``localparam``s and comments) and instantiates the shared components (``fixed_linear``,
``fixed_requant``...) and its pipeline stage (``fixed_delay``). Keeping every layer in its own
module lets Yosys report LUTs and FFs per layer, and lets a student read one layer top to bottom.

Ports (every layer): ``clk``, ``rst``, ``data_in_0_valid``, ``data_in_0`` (and ``data_in_1`` for
an add), ``data_out_0_valid``, ``data_out_0``; element ``i`` of a packed vector sits at bits
``[i*WIDTH +: WIDTH]``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from chop.errors import HardwareError
from chop.hardware.fixed import FixedFormat
from chop.hardware.ops import FixedAdd, FixedAffine, FixedLinear, FixedReLU, affine_channels
from chop.hardware.rtl.da4ml_sums import LINEAR_IMPLS, SumBlock, da4ml_sums
from chop.hardware.rtl.netlist import Step, Wire
from chop.hardware.rtl.products import InputWires, product_rows, wrapped
from chop.hardware.rtl.verilog import decimal_list, describe, packed_constants, signed_width, vector

PIPELINES = ("none", "layer", "split")
"""``none``: combinational (latency 0); ``layer``: a register after each layer; ``split``: also a
register between the constant products and the requantiser of linear and affine layers."""


@dataclass(frozen=True)
class LayerModule:
    node: str
    module: str
    kind: str
    text: str
    latency: int
    # other files the module instantiates, (name, text): da4ml's adder graph and its helpers
    files: tuple[tuple[str, str], ...] = ()


def module_name(step: Step) -> str:
    """``seq_blocks_2_linear``: the node's name and the op (its component's kind without ``fixed_``)."""
    return f"{step.node}_{step.kind.removeprefix('fixed_')}"


def _flag(value: bool) -> str:
    return "1'b1" if value else "1'b0"


def _format_params(prefix: str, fmt: FixedFormat) -> str:
    return f".{prefix}_WIDTH({fmt.width}), .{prefix}_FRAC({fmt.frac}), .{prefix}_SIGNED({_flag(fmt.signed)})"


def _port(direction: str, name: str, wire: Wire, last: bool = False) -> str:
    layout = f"element i at [i*{wire.fmt.width} +: {wire.fmt.width}]"
    separator = " " if last else ","
    return f"    {direction} logic {vector(wire.bits)} {name}{separator}  // {describe(wire.fmt, wire.size)}, {layout}"


def rounding_half(acc_frac: int, out: FixedFormat) -> int:
    """What a linear or affine layer adds to its offsets for the rounding: half an output step, or 0.

    Where the requantiser drops fraction bits, the half step rides in the bias constant, so
    ``fixed_requant`` (``HALF_ADDED``) only clears the lowest bit on a tie instead of incrementing.
    The estimate counts the same offsets.
    """
    drop = acc_frac - out.frac
    return 1 << (drop - 1) if drop > 0 else 0


def layer_latency(kind: str, pipeline: str) -> int:
    """Cycles a layer module of ``kind`` takes: linear and affine layers get a second register with ``split``."""
    if pipeline == "none":
        return 0
    return 2 if pipeline == "split" and kind in ("fixed_linear", "fixed_affine") else 1


def _header(step: Step, summary: str, notes: Sequence[str], latency: int) -> list[str]:
    lines = [f"// {module_name(step)}: {summary}",
             f"// node '{step.node}' ({type(step.op).__name__}) of the prepared graph, written by machop.",
             *(f"//   {note}" for note in notes),
             f"// latency: {latency} cycle{'s' if latency != 1 else ''}",
             f"module {module_name(step)} (",
             "    input  logic clk,",
             "    input  logic rst,"]
    for k, wire in enumerate(step.inputs):
        lines += [f"    input  logic data_in_{k}_valid,", _port("input ", f"data_in_{k}", wire)]
    lines += ["    output logic data_out_0_valid,", _port("output", "data_out_0", step.out, last=True)]
    return lines + [");"]


STAGE_COMMENTS = {0: "no register (pipeline \"none\"): the result passes straight through",
                  1: "the layer's register stage: the result appears one cycle later"}


def _stage(stages: int, valid: str, data: str, width: int, *, name: str = "u_stage",
           out: tuple[str, str] = ("data_out_0_valid", "data_out_0"), comment: str | None = None) -> list[str]:
    """A ``fixed_delay`` instance: the register stage of a layer (or, with 0 stages, a wire)."""
    return [f"    // {comment or STAGE_COMMENTS[stages]}",
            f"    fixed_delay #(.WIDTH({width}), .STAGES({stages})) {name} (",
            f"        .clk(clk), .rst(rst), .in_valid({valid}), .in_data({data}),",
            f"        .out_valid({out[0]}), .out_data({out[1]})",
            "    );"]


def _input_wires(wire: Wire, used: set[int]) -> tuple[InputWires, list[str]]:
    """A signed wire per used input element, and the lines declaring them (unread elements are
    collected on one wire for the linter)."""
    fmt = wire.fmt
    width = fmt.width + (0 if fmt.signed else 1)
    lines = [f"    // the input elements as signed numbers{'' if fmt.signed else ' (a zero bit on top: unsigned format)'}"]
    for i in sorted(used):
        bits = f"data_in_0[{i * fmt.width} +: {fmt.width}]"
        value = bits if fmt.signed else f"$signed({{1'b0, {bits}}})"
        lines.append(f"    wire signed {vector(width)} x{i} = {value};")
    unread = [i for i in range(wire.size) if i not in used]
    if unread:
        parts = ", ".join(f"data_in_0[{i * fmt.width} +: {fmt.width}]" for i in unread)
        lines += ["    // lint waiver: inputs whose constants are all zero are not read (Verilator ignores *unused*)",
                  f"    wire unused_inputs = &{{1'b0, {parts}}};"]
    return InputWires([f"x{i}" for i in range(wire.size)], width, fmt.lo, fmt.hi), lines


@dataclass(frozen=True)
class ConstantLayer:
    """What a linear or an affine layer hands to the common emitter: rows of constant products, one
    offset per row (bias or shift), the formats, and the words its module uses for them."""

    rows: list[list[tuple[int, int]]]  # per row: (input element, constant code)
    labels: list[str]  # per row, for the comments
    offsets: list[int]  # per row: added at the accumulator's fraction bits
    in_format: FixedFormat
    constant_format: FixedFormat
    acc_format: FixedFormat
    shift: int  # ACC_FRAC - IN_FRAC - CONSTANT_FRAC
    summary: str
    notes: list[str]
    row: str  # a row's wire prefix and name in comments: "row" (linear), "product" (affine)
    vector: str  # the packed row values and the component's port: "sums", "products"
    size: str  # the component's row count parameter: "ROWS", "SIZE"
    width: str  # the component's width parameter for the row values: "SUM_WIDTH", "PRODUCT_WIDTH"
    offset: str  # the component's offset parameter: "BIAS", "SHIFT"


def _tree_sums(step: Step, products: str, layer: ConstantLayer) -> SumBlock:
    """The packed row values as machop's constant products (CSD trees, shared or not, or ``*``), one wire per row."""
    inputs, inputs_lines = _input_wires(step.inputs[0], {i for row in layer.rows for i, c in row if c != 0})
    product_lines, sums = product_rows(layer.rows, inputs, layer.row, products, layer.labels)
    sum_width = max(s.width for s in sums)
    what = "row sum" if layer.row == "row" else layer.row
    style = {"shared": "canonical signed digits, sums shared across rows", "csd": "canonical signed digits",
             "multiply": "constant multiplications"}[products]
    lines = [*inputs_lines, "",
             f"    // constant products ({style}); the formula of each {what} comes first", *product_lines, "",
             f"    // the {what}s side by side, sign-extended to {layer.width}",
             f"    logic {vector(len(layer.rows) * sum_width)} {layer.vector};",
             *(f"    assign {layer.vector}[{j * sum_width} +: {sum_width}] = {sum_width}'({s.wire});"
               for j, s in enumerate(sums))]
    return SumBlock(lines, sums, sum_width, ())


def _constant_layer(step: Step, pipeline: str, products: str, layer: ConstantLayer,
                    linear_impl: str = "machop") -> LayerModule:
    """A linear or affine layer: constant products, packed side by side, then ``fixed_linear`` /
    ``fixed_affine`` (offset, requantise), then the register stage. With ``linear_impl="da4ml"``
    da4ml's adder graph computes the packed row sums instead."""
    if layer.shift < 0:
        raise HardwareError(f"node '{step.node}': the accumulator has fewer fraction bits than its products "
                            f"(shift {layer.shift}); re-run prepare_hardware_transform_pass")
    latency = layer_latency(step.kind, pipeline)
    block = (da4ml_sums(step, module_name(step), layer.vector) if linear_impl == "da4ml"
             else _tree_sums(step, products, layer))
    sums, sum_width = block.sums, block.sum_width
    size, out, what = len(layer.rows), step.out, "row sum" if layer.row == "row" else layer.row
    half = rounding_half(layer.acc_format.frac, out.fmt)
    offsets = [b + half for b in layer.offsets]
    offset_width = signed_width(min(offsets), max(offsets))
    acc_ranges = [s.offset_range(layer.shift, b) for s, b in zip(sums, offsets)]
    acc_lo, acc_hi = min(lo for lo, _ in acc_ranges), max(hi for _, hi in acc_ranges)
    subtracted = [j for j, s in enumerate(sums) if s.negated]
    body = [f"    localparam int {layer.size} = {size};",
            f"    localparam int {layer.width} = {sum_width};  // the widest {what}, at fraction bits "
            f"{layer.in_format.frac} + {layer.constant_format.frac}",
            f"    localparam int {layer.offset}_WIDTH = {offset_width};",
            f"    localparam int ACC_WIDTH = {signed_width(acc_lo, acc_hi)};  // exact: {acc_lo}..{acc_hi} at fraction "
            f"bits {layer.acc_format.frac}", "",
            *block.lines, "",
            f"    // {layer.offset.lower()} codes at fraction bits {layer.acc_format.frac}"
            + (f" plus half an output step ({half}, for the rounding)" if half else "") + f", {what} 0 first:",
            decimal_list(offsets),
            f"    localparam logic [{layer.size}*{layer.offset}_WIDTH-1:0] {layer.offset} = "
            + packed_constants(offsets, offset_width) + ";",
            *wrapped(f"    // the {what}s whose wire holds minus the {what} (all its terms subtracted), which the "
                     f"offset subtracts: ", ", ".join(map(str, subtracted)) or "none"),
            f"    localparam logic [{layer.size}-1:0] SUBTRACT = {_bit_mask(subtracted, size)};", ""]
    valid, values = "data_in_0_valid", layer.vector
    if pipeline == "split":
        valid, values = f"{layer.vector}_valid", f"{layer.vector}_q"
        body += [f"    logic {valid};", f"    logic {vector(size * sum_width)} {values};",
                 *_stage(1, "data_in_0_valid", layer.vector, size * sum_width, name="u_products_stage",
                         out=(valid, values),
                         comment="pipeline \"split\": a register between the products and the requantiser")]
    body += [f"    logic {vector(out.bits)} result;",
             f"    {step.kind} #(",
             f"        .{layer.size}({layer.size}), .{layer.width}({layer.width}), .PRODUCT_SHIFT({layer.shift}),",
             f"        .{layer.offset}_WIDTH({layer.offset}_WIDTH), .{layer.offset}({layer.offset}),",
             f"        .ACC_WIDTH(ACC_WIDTH), .ACC_FRAC({layer.acc_format.frac}), {_format_params('OUT', out.fmt)},",
             f"        .HALF_ADDED(1'b{int(half > 0)}), .SUBTRACT(SUBTRACT)",
             f"    ) u_{step.kind.removeprefix('fixed_')} (.{layer.vector}({values}), .data_out(result));", "",
             *_stage(0 if pipeline == "none" else 1, valid, "result", out.bits)]
    text = "\n".join([*_header(step, layer.summary, layer.notes, latency), *body, "endmodule", ""])
    return LayerModule(step.node, module_name(step), step.kind, text, latency, block.files)


def _bit_mask(bits: Sequence[int], width: int) -> str:
    """A ``width``-bit literal with ``bits`` set (bit ``j`` for row ``j``)."""
    value = sum(1 << j for j in bits)
    return f"{width}'h{value:x}"


def linear_layer(step: Step, pipeline: str, products: str, linear_impl: str = "machop") -> LayerModule:
    op = step.op
    assert isinstance(op, FixedLinear)
    weight, bias = op.weight.tolist(), op.bias.tolist()
    out_features, in_features = op.weight.shape
    groups = step.inputs[0].size // in_features  # leading dimensions: the same matrix on each group
    rows, labels = [], []
    for g in range(groups):
        for j in range(out_features):
            rows.append([(g * in_features + i, weight[j][i]) for i in range(in_features)])
            labels.append(f"row {j}" if groups == 1 else f"row {j} of group {g}")
    notes = [f"data_in_0  {describe(op.in_format, step.inputs[0].size)}",
             f"weight     {out_features} x {in_features} codes of {op.weight_format} (constants, below)",
             f"bias       {out_features} codes at the accumulator's fraction bits {op.acc_format.frac}",
             f"accumulator {op.acc_format} (exact: the sums cannot overflow)",
             f"data_out_0 {describe(op.out_format, step.out.size)}: round half to even, then saturate"]
    layer = ConstantLayer(rows, labels, bias * groups, op.in_format, op.weight_format, op.acc_format, op.product_shift,
                          f"y = requant(x @ W^T + b), {in_features} -> {out_features}", notes,
                          row="row", vector="sums", size="ROWS", width="SUM_WIDTH", offset="BIAS")
    return _constant_layer(step, pipeline, products, layer, linear_impl)


def affine_layer(step: Step, pipeline: str, products: str) -> LayerModule:
    op = step.op
    assert isinstance(op, FixedAffine)
    scale, shift = op.scale.tolist(), op.shift.tolist()
    channels = len(scale)
    size = step.inputs[0].size
    channel = affine_channels(size, channels)
    rows = [[(e, scale[channel[e]])] for e in range(size)]
    labels = [f"element {e} (channel {channel[e]})" if size != channels else f"channel {e}" for e in range(size)]
    notes = [f"data_in_0  {describe(op.in_format, size)}",
             f"scale      {channels} codes of {op.scale_format} (constants, below)",
             f"shift      {channels} codes at the accumulator's fraction bits {op.acc_format.frac}",
             f"accumulator {op.acc_format} (exact)",
             f"data_out_0 {describe(op.out_format, size)}: round half to even, then saturate"]
    layer = ConstantLayer(rows, labels, [shift[channel[e]] for e in range(size)], op.in_format, op.scale_format,
                          op.acc_format, op.product_shift,
                          f"y = requant(x * scale + shift) per channel ({channels} channels)", notes,
                          row="product", vector="products", size="SIZE", width="PRODUCT_WIDTH", offset="SHIFT")
    return _constant_layer(step, pipeline, products, layer)


def relu_layer(step: Step, pipeline: str, products: str) -> LayerModule:
    op = step.op
    assert isinstance(op, FixedReLU)
    latency = layer_latency(step.kind, pipeline)
    size = step.out.size
    notes = [f"data_in_0  {describe(op.in_format, size)}",
             f"data_out_0 {describe(op.out_format, size)}: round half to even, then saturate"]
    body = [f"    logic {vector(step.out.bits)} result;",
            f"    fixed_relu #(",
            f"        .SIZE({size}), {_format_params('IN', op.in_format)},",
            f"        {_format_params('OUT', op.out_format)}",
            "    ) u_relu (.data_in(data_in_0), .data_out(result));", ""]
    body += _stage(latency, "data_in_0_valid", "result", step.out.bits)
    text = "\n".join([*_header(step, f"y = requant(max(x, 0)) on {size} elements", notes, latency), *body,
                      "endmodule", ""])
    return LayerModule(step.node, module_name(step), step.kind, text, latency)


def add_layer(step: Step, pipeline: str, products: str) -> LayerModule:
    op = step.op
    assert isinstance(op, FixedAdd)
    latency = layer_latency(step.kind, pipeline)
    a, b, acc = op.a_format, op.b_format, op.acc_format
    if acc.frac < a.frac or acc.frac < b.frac:
        raise HardwareError(f"node '{step.node}': the accumulator's {acc.frac} fraction bits are fewer than an "
                            f"operand's ({a.frac}, {b.frac}); re-run prepare_hardware_transform_pass")
    if step.inputs[0].shape != step.inputs[1].shape:
        raise HardwareError(f"node '{step.node}' adds shapes {step.inputs[0].shape} and {step.inputs[1].shape}; "
                            f"the hardware add takes operands of one shape (no broadcasting)")
    sa, sb = acc.frac - a.frac, acc.frac - b.frac
    lo, hi = (a.lo << sa) + (b.lo << sb), (a.hi << sa) + (b.hi << sb)
    size = step.out.size
    notes = [f"data_in_0  {describe(a, size)}", f"data_in_1  {describe(b, size)}",
             f"accumulator at fraction bits {acc.frac}: exact, {lo}..{hi}",
             f"data_out_0 {describe(op.out_format, size)}: round half to even, then saturate"]
    body = [f"    localparam int ACC_WIDTH = {signed_width(lo, hi)};",
            f"    logic {vector(step.out.bits)} result;",
            "    fixed_add #(",
            f"        .SIZE({size}), {_format_params('A', a)}, {_format_params('B', b)},",
            f"        .ACC_WIDTH(ACC_WIDTH), .ACC_FRAC({acc.frac}), {_format_params('OUT', op.out_format)}",
            "    ) u_add (.data_in_0(data_in_0), .data_in_1(data_in_1), .data_out(result));", "",
            "    // both operands arrive in the same cycle (top.sv delays the earlier one)"]
    body += _stage(latency, "data_in_0_valid & data_in_1_valid", "result", step.out.bits)
    text = "\n".join([*_header(step, f"y = requant(a + b) on {size} elements", notes, latency), *body,
                      "endmodule", ""])
    return LayerModule(step.node, module_name(step), step.kind, text, latency)


LAYERS: dict[str, Callable[[Step, str, str], LayerModule]] = {
    "fixed_linear": linear_layer,
    "fixed_affine": affine_layer,
    "fixed_relu": relu_layer,
    "fixed_add": add_layer,
}


def layer_module(step: Step, pipeline: str, products: str, linear_impl: str = "machop") -> LayerModule:
    """The module of one compute step; an op kind without an RTL component is a ``HardwareError``.

    ``linear_impl`` (one of ``LINEAR_IMPLS``) chooses how linear layers compute their row sums.
    """
    if linear_impl not in LINEAR_IMPLS:
        raise HardwareError(f"unknown linear_impl '{linear_impl}'; use one of: {', '.join(LINEAR_IMPLS)}")
    if step.kind == "fixed_linear":
        return linear_layer(step, pipeline, products, linear_impl)
    build = LAYERS.get(step.kind)
    if build is None:
        raise HardwareError(f"node '{step.node}': no RTL component for '{step.kind}'; "
                            f"the RTL implements {', '.join(LAYERS)}")
    return build(step, pipeline, products)
