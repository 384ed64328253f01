"""A linear layer's row sums from da4ml's adder graph instead of machop's own constant products.

``linear_impl="da4ml"`` keeps everything of machop's linear layer module (its ports, the bias,
the requantiser ``fixed_linear``, the register stage) and replaces only the block that computes
the row sums ``x @ W^T``: an instance of the module ``chop.hardware.da4ml_backend`` writes
(``{layer}_cmvm``), one per group of a linear applied to leading dimensions. Its outputs are the
exact sums, so the layer computes the same codes bit for bit; only the adder graph differs
(da4ml shares subexpressions across rows, machop's CSD trees do not).

da4ml's accumulators are unsigned when every sum is non-negative; they get a zero bit on top,
because ``fixed_linear`` reads signed sums.
"""

from __future__ import annotations

from dataclasses import dataclass

from chop.hardware.da4ml_backend import da4ml_linear_verilog
from chop.hardware.ops import FixedLinear
from chop.hardware.rtl.netlist import Step
from chop.hardware.rtl.adder_tree import InputWires, RowSum, row_range
from chop.hardware.rtl.verilog import signed_width, vector

LINEAR_IMPLS = ("machop", "da4ml")
"""``machop``: the row sums as machop's constant products (the ``products`` style, CSD by default);
``da4ml``: da4ml's adder graph of the weight matrix."""


@dataclass(frozen=True)
class SumBlock:
    """The lines that define a layer's packed row sums, each row's exact range, and the files they need."""

    lines: list[str]
    sums: list[RowSum]
    sum_width: int
    files: tuple[tuple[str, str], ...]  # (file name, text): da4ml's modules, the layer's adder graph first


def da4ml_sums(step: Step, module: str, packed: str) -> SumBlock:
    """The packed row sums ``packed`` of linear ``step`` (module ``module``) as da4ml instances."""
    op = step.op
    assert isinstance(op, FixedLinear)
    out_features, in_features = op.weight.shape
    groups = step.inputs[0].size // in_features
    cmvm = da4ml_linear_verilog(op.weight, op.in_format, f"{module}_cmvm", weight_frac=op.weight_format.frac)
    acc = cmvm.acc_format
    inputs = InputWires((), 0, op.in_format.lo, op.in_format.hi)  # only the code range matters here
    ranges = [row_range(list(enumerate(row)), inputs) for row in op.weight.tolist()]
    # signed: da4ml's width; unsigned: one bit more, except for an all-zero matrix (one bit holds 0)
    width = signed_width(min(lo for lo, _ in ranges), max(hi for _, hi in ranges))
    in_bits, out_bits = in_features * op.in_format.width, out_features * width
    lines = [f"    // row sums x @ W^T ({acc.width}-bit {'signed' if acc.signed else 'unsigned'} accumulators "
             f"at fraction bits {acc.frac}), from da4ml's",
             f"    // multiplier-free adder graph {cmvm.name} (da4ml's estimate: {cmvm.cost:.0f} LUTs)",
             f"    logic {vector(groups * out_bits)} {packed};"]
    for g in range(groups):
        suffix = "" if groups == 1 else str(g)
        data_in = f"data_in_0[{g * in_bits} +: {in_bits}]" if groups > 1 else "data_in_0"
        if acc.signed:
            target = f"{packed}[{g * out_bits} +: {out_bits}]" if groups > 1 else packed
        else:
            target = f"{packed}_unsigned{suffix}"
            lines.append(f"    logic {vector(out_features * acc.width)} {target};")
        lines.append(f"    {cmvm.name} u_cmvm{suffix} (.data_in({data_in}), .data_out({target}));")
        if not acc.signed:
            lines += [f"    assign {packed}[{(g * out_features + j) * width} +: {width}] = "
                      f"{width}'({{1'b0, {target}[{j * acc.width} +: {acc.width}]}});" for j in range(out_features)]
    sums = [RowSum(f"{packed}[{(g * out_features + j) * width} +: {width}]", width, lo, hi)
            for g in range(groups) for j, (lo, hi) in enumerate(ranges)]
    return SumBlock(lines, sums, width, cmvm.files)
