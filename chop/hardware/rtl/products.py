"""Sums of constant products as SystemVerilog: the part of a layer that holds its constants.

Each row is ``sum_i x[i] * c[i]`` for constant integer codes ``c`` (a linear layer's weight row,
an affine layer's scale). Three ways to write it (``PRODUCT_STYLES``, the first the default):

- ``"shared"``: canonical signed digits, with the sums that several rows contain computed once
  (``chop.hardware.rtl.shared_products``).
- ``"csd"``: every constant becomes its canonical signed digits (``7 = 8 - 1``), every digit a
  shifted copy of its input, and the copies meet in a balanced adder tree per row.
- ``"multiply"``: ``x[i] * c[i]`` written with ``*``, left to the synthesis tool's constant
  multipliers.

For a 16 -> 16 layer with 8-bit inputs and uniform random 4-bit weights (seed 0), the row sums
alone take 2,015 LUTs shared and 2,644 as CSD rows (``chop.hardware.synth.synthesize(...,
nodsp=True)``, Yosys 0.23; docs/hardware.md, "Constant products"); multiplied, a whole layer took
about twice the LUTs of CSD rows. Every wire is exactly as wide as its range (``chop.hardware.rtl.adder_tree``); zero
constants are dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from chop.errors import HardwareError
from chop.hardware.rtl.adder_tree import (InputWires, Operand, Row, RowSum, combine, formula, is_row_wire,
                                          reads_all_bits, root, row_sum, waive_unread_bits, wrapped)
from chop.hardware.rtl.csd import csd_digits, describe_digits
from chop.hardware.rtl.shared_products import shared_rows
from chop.hardware.rtl.verilog import vector

PRODUCT_STYLES = ("shared", "csd", "multiply")


def _csd_row(row: Row, inputs: InputWires, name: str) -> tuple[list[str], RowSum]:
    leaves = [Operand(inputs.names[i], inputs.width, shift, sign < 0, {i: 1})
              for i, c in row if c != 0 for shift, sign in csd_digits(c)]
    lines: list[str] = []
    digits = [describe_digits(c) for _, c in row if c != 0 and not _power_of_two(abs(c))]
    if digits:
        lines += wrapped("    //   digits: ", "; ".join(digits))
    level = leaves
    count = 0
    truncated: set[str] = set()
    while len(level) > 1:
        merged = []
        for k in range(0, len(level) - 1, 2):
            a, b = level[k], level[k + 1]
            # the last node is the row's wire, unless it holds the negated or shifted sum
            if len(level) == 2 and is_row_wire(a, b):
                wire = name
            else:
                wire, count = f"{name}_{count}", count + 1
            node, line = combine(a, b, wire, inputs)
            truncated |= {o.wire for o in (a, b) if not reads_all_bits(o, node)}
            merged.append(node)
            lines.append(line)
        if len(level) % 2:
            merged.append(level[-1])
        level = merged
    root_lines, total = root(level[0] if level else None, row, inputs, name)
    return waive_unread_bits(lines, truncated) + root_lines, total


def _multiply_row(row: Row, inputs: InputWires, name: str) -> tuple[list[str], RowSum]:
    total = row_sum(row, inputs, name)
    w = total.width
    terms = [f"{w}'({inputs.names[i]}) * {_constant(c, w)}" for i, c in row if c != 0]
    expr = " + ".join(terms) if terms else "1'b0"
    return [f"    wire signed {vector(w)} {name} = {expr};"], total


def _constant(value: int, width: int) -> str:
    magnitude = f"{width}'sd{abs(value)}" if abs(value) >= 2**31 else str(abs(value))
    return f"{width}'(-{magnitude})" if value < 0 else f"{width}'({magnitude})"


def _power_of_two(value: int) -> bool:
    return value & (value - 1) == 0


def product_rows(rows: Sequence[Row], inputs: InputWires, prefix: str, style: str,
                 labels: Sequence[str] | None = None) -> tuple[list[str], list[RowSum]]:
    """The lines defining one wire per row (``{prefix}{j}``), and each row's sum (its wire and exact range)."""
    if style not in PRODUCT_STYLES:
        raise HardwareError(f"unknown products style '{style}'; use one of: {', '.join(PRODUCT_STYLES)}")
    labels = labels if labels is not None else [f"{prefix} {j}" for j in range(len(rows))]
    if style == "shared":
        return shared_rows(rows, inputs, prefix, labels)
    build = _csd_row if style == "csd" else _multiply_row
    lines: list[str] = []
    sums = []
    for j, row in enumerate(rows):
        name = f"{prefix}{j}"
        lines += wrapped(f"    // {labels[j]}: {name} = ", formula(row, inputs))
        row_lines, total = build(row, inputs, name)
        lines += row_lines
        sums.append(total)
    return lines, sums

