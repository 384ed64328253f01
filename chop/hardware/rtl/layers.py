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
from chop.hardware.ops import FixedAdd, FixedAffine, FixedLinear, FixedReLU
from chop.hardware.rtl.netlist import Step, Wire
from chop.hardware.rtl.products import InputWires, RowSum, product_rows
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


def module_name(step: Step) -> str:
    """``seq_blocks_2_linear``: the node's name and the op (its component's kind without ``fixed_``)."""
    return f"{step.node}_{step.kind.removeprefix('fixed_')}"


def _flag(value: bool) -> str:
    return "1'b1" if value else "1'b0"


def _format_params(prefix: str, fmt: FixedFormat) -> str:
    return f".{prefix}_WIDTH({fmt.width}), .{prefix}_FRAC({fmt.frac}), .{prefix}_SIGNED({_flag(fmt.signed)})"


def _port(direction: str, name: str, wire: Wire) -> str:
    layout = f"element i at [i*{wire.fmt.width} +: {wire.fmt.width}]"
    return f"    {direction} logic {vector(wire.bits)} {name},  // {describe(wire.fmt, wire.size)}, {layout}"


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
    lines += ["    output logic data_out_0_valid,", _port("output", "data_out_0", step.out).rstrip(",")]
    lines[-1] = lines[-1].replace(f" data_out_0,  //", " data_out_0   //")
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


def _input_wires(wire: Wire, used: set[int], lines: list[str]) -> InputWires:
    """Declare a signed wire per used input element; unread elements are collected for the linter."""
    fmt = wire.fmt
    width = fmt.width + (0 if fmt.signed else 1)
    lines.append(f"    // the input elements as signed numbers{'' if fmt.signed else ' (a zero bit on top: unsigned format)'}")
    for i in sorted(used):
        bits = f"data_in_0[{i * fmt.width} +: {fmt.width}]"
        value = bits if fmt.signed else f"$signed({{1'b0, {bits}}})"
        lines.append(f"    wire signed {vector(width)} x{i} = {value};")
    unread = [i for i in range(wire.size) if i not in used]
    if unread:
        parts = ", ".join(f"data_in_0[{i * fmt.width} +: {fmt.width}]" for i in unread)
        lines += ["    // lint waiver: inputs whose constants are all zero are not read (Verilator ignores *unused*)",
                  f"    wire unused_inputs = &{{1'b0, {parts}}};"]
    return InputWires([f"x{i}" for i in range(wire.size)], width, fmt.lo, fmt.hi)


def _pack(name: str, sums: Sequence[RowSum], width: int, lines: list[str]) -> None:
    lines.append(f"    logic {vector(len(sums) * width)} {name};")
    lines += [f"    assign {name}[{j * width} +: {width}] = {width}'({s.wire});" for j, s in enumerate(sums)]


def _check_shift(step: Step, shift: int) -> None:
    if shift < 0:
        raise HardwareError(f"node '{step.node}': the accumulator has fewer fraction bits than its products "
                            f"(shift {shift}); re-run prepare_hardware_transform_pass")


def _constant_layer(step: Step, pipeline: str, products: str, *, rows: list[list[tuple[int, int]]],
                    labels: list[str], offsets: list[int], in_fmt: FixedFormat, constant_fmt: FixedFormat,
                    acc_fmt: FixedFormat, shift: int, names: dict[str, str], summary: str,
                    notes: list[str]) -> LayerModule:
    """A linear or affine layer: constant products, packed, then offset + requantise, then the stage."""
    _check_shift(step, shift)
    latency = {"none": 0, "layer": 1, "split": 2}[pipeline]
    body: list[str] = []
    used = {i for row in rows for i, c in row if c != 0}
    inputs = _input_wires(step.inputs[0], used, body)
    product_lines, sums = product_rows(rows, inputs, names["prefix"], products, labels)
    sum_width = max(s.width for s in sums)
    offset_width = signed_width(min(offsets), max(offsets))
    acc_lo = min((s.lo << shift) + b for s, b in zip(sums, offsets))
    acc_hi = max((s.hi << shift) + b for s, b in zip(sums, offsets))
    acc_width = signed_width(acc_lo, acc_hi)
    out = step.out
    size, sums_name, offsets_name = len(rows), names["sums"], names["offsets"]
    params = [
        f"    localparam int {names['size']} = {size};",
        f"    localparam int {names['sum_width']} = {sum_width};  // the widest {names['what']}, "
        f"at fraction bits {in_fmt.frac} + {constant_fmt.frac}",
        f"    localparam int {names['offset_width']} = {offset_width};",
        f"    localparam int ACC_WIDTH = {acc_width};  // exact: {acc_lo}..{acc_hi} at fraction bits {acc_fmt.frac}",
    ]
    body = params + body
    style = "canonical signed digits" if products == "csd" else "constant multiplications"
    body += ["", f"    // constant products ({style}); the formula of each {names['what']} comes first", *product_lines,
             "", f"    // the {names['what']}s side by side, sign-extended to {names['sum_width']}"]
    _pack(sums_name, sums, sum_width, body)
    body += ["", f"    // {names['offset_what']} codes at fraction bits {acc_fmt.frac}, {names['what']} 0 first:",
             decimal_list(offsets),
             f"    localparam logic [{names['size']}*{names['offset_width']}-1:0] {offsets_name} = "
             + packed_constants(offsets, offset_width) + ";", ""]
    source_valid, source = "data_in_0_valid", sums_name
    if pipeline == "split":
        body += [f"    logic {sums_name}_valid;", f"    logic {vector(size * sum_width)} {sums_name}_q;"]
        body += _stage(1, "data_in_0_valid", sums_name, size * sum_width, name="u_products_stage",
                       out=(f"{sums_name}_valid", f"{sums_name}_q"),
                       comment="pipeline \"split\": a register between the products and the requantiser")
        source_valid, source = f"{sums_name}_valid", f"{sums_name}_q"
    body += [f"    logic {vector(out.bits)} result;",
             f"    {step.kind} #(",
             f"        .{names['size_param']}({names['size']}), .{names['sum_param']}({names['sum_width']}), "
             f".PRODUCT_SHIFT({shift}),",
             f"        .{names['offset_param']}_WIDTH({names['offset_width']}), .{names['offset_param']}({offsets_name}),",
             f"        .ACC_WIDTH(ACC_WIDTH), .ACC_FRAC({acc_fmt.frac}), {_format_params('OUT', out.fmt)}",
             f"    ) u_{step.kind.removeprefix('fixed_')} (.{names['sum_port']}({source}), .data_out(result));", ""]
    body += _stage(0 if pipeline == "none" else 1, source_valid, "result", out.bits)
    text = "\n".join([*_header(step, summary, notes, latency), *body, "endmodule", ""])
    return LayerModule(step.node, module_name(step), step.kind, text, latency)


def linear_layer(step: Step, pipeline: str, products: str) -> LayerModule:
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
    names = dict(prefix="row", sums="sums", offsets="BIAS", size="ROWS", sum_width="SUM_WIDTH",
                 offset_width="BIAS_WIDTH", what="row sum", offset_what="bias", size_param="ROWS",
                 sum_param="SUM_WIDTH", offset_param="BIAS", sum_port="sums")
    return _constant_layer(step, pipeline, products, rows=rows, labels=labels, offsets=bias * groups,
                           in_fmt=op.in_format, constant_fmt=op.weight_format, acc_fmt=op.acc_format,
                           shift=op.product_shift, names=names, notes=notes,
                           summary=f"y = requant(x @ W^T + b), {in_features} -> {out_features}")


def affine_layer(step: Step, pipeline: str, products: str) -> LayerModule:
    op = step.op
    assert isinstance(op, FixedAffine)
    scale, shift = op.scale.tolist(), op.shift.tolist()
    channels = len(scale)
    size = step.inputs[0].size
    rows = [[(e, scale[e % channels])] for e in range(size)]
    labels = [f"element {e} (channel {e % channels})" if size != channels else f"channel {e}" for e in range(size)]
    notes = [f"data_in_0  {describe(op.in_format, size)}",
             f"scale      {channels} codes of {op.scale_format} (constants, below)",
             f"shift      {channels} codes at the accumulator's fraction bits {op.acc_format.frac}",
             f"accumulator {op.acc_format} (exact)",
             f"data_out_0 {describe(op.out_format, size)}: round half to even, then saturate"]
    names = dict(prefix="product", sums="products", offsets="SHIFT", size="SIZE", sum_width="PRODUCT_WIDTH",
                 offset_width="SHIFT_WIDTH", what="product", offset_what="shift", size_param="SIZE",
                 sum_param="PRODUCT_WIDTH", offset_param="SHIFT", sum_port="products")
    return _constant_layer(step, pipeline, products, rows=rows, labels=labels,
                           offsets=[shift[e % channels] for e in range(size)], in_fmt=op.in_format,
                           constant_fmt=op.scale_format, acc_fmt=op.acc_format, shift=op.product_shift,
                           names=names, notes=notes,
                           summary=f"y = requant(x * scale + shift) per channel ({channels} channels)")


def relu_layer(step: Step, pipeline: str, products: str) -> LayerModule:
    op = step.op
    assert isinstance(op, FixedReLU)
    latency = 0 if pipeline == "none" else 1
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
    latency = 0 if pipeline == "none" else 1
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


def layer_module(step: Step, pipeline: str, products: str) -> LayerModule:
    """The module of one compute step; an op kind without an RTL component is a ``HardwareError``."""
    build = LAYERS.get(step.kind)
    if build is None:
        raise HardwareError(f"node '{step.node}': no RTL component for '{step.kind}'; "
                            f"the RTL implements {', '.join(LAYERS)}")
    return build(step, pipeline, products)
