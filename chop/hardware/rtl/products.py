"""Sums of constant products as SystemVerilog: the part of a layer that holds its constants.

Each row is ``sum_i x[i] * c[i]`` for constant integer codes ``c`` (a linear layer's weight row,
an affine layer's scale). Two ways to write it:

- ``"csd"`` (the default): every constant becomes its canonical signed digits (``7 = 8 - 1``),
  every digit a shifted copy of its input, and the copies meet in a balanced adder tree. Every
  wire of the tree is exactly as wide as the values it can hold: each node is a known multiple
  of each input element, so its range follows from the input format's code range.
- ``"multiply"``: ``x[i] * c[i]`` written with ``*``, left to the synthesis tool's constant
  multipliers. CSD takes fewer LUTs: a 16 -> 16 layer with 8-bit inputs, random weights over
  the whole code range, ``synth_xilinx -nodsp`` in Yosys 0.23: 3,881 LUTs against 7,350 with
  4-bit weights, 7,333 against 17,996 with 8-bit weights (layer module, register included).

Zero constants are dropped. Wires are signed; the additions are modular in the width of the
node they define, which is exact because every node's true value fits that width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chop.errors import HardwareError
from chop.hardware.rtl.csd import csd_digits, describe_digits
from chop.hardware.rtl.verilog import signed_width, vector

PRODUCT_STYLES = ("csd", "multiply")

Row = Sequence[tuple[int, int]]
"""One row: ``(input element, constant code)`` pairs."""


@dataclass(frozen=True)
class InputWires:
    """How a layer module names its input elements and the codes they can take."""

    names: Sequence[str]  # the signed wire of each input element
    width: int  # their width (one more than the format's when the format is unsigned)
    lo: int
    hi: int


@dataclass(frozen=True)
class Operand:
    """A value in an adder tree: ``wire << shift``, added with a minus sign when ``negative``.

    ``coefficients`` say which multiple of each input element ``wire`` holds (``{3: 5}``: ``5 * x3``);
    its exact range follows from them, which is tighter than adding the operands' ranges (``8x - x``
    spans ``[7 lo, 7 hi]``, not ``[8 lo - hi, 8 hi - lo]``). Shifts stay outside the wires, so an
    adder never spends bits on the zeros below its operands.
    """

    wire: str
    width: int
    shift: int
    negative: bool
    coefficients: dict[int, int]

    def at(self, width: int, below: int = 0) -> str:
        """``wire << (shift - below)`` as an expression ``width`` bits wide (a cast, then the shift)."""
        shift = self.shift - below
        text = self.wire if self.width == width and shift == 0 else f"{width}'({self.wire})"
        return f"({text} << {shift})" if shift else text


@dataclass(frozen=True)
class RowSum:
    """A row's sum, on a wire of its exact width."""

    wire: str
    width: int
    lo: int
    hi: int


def term_range(constant: int, lo: int, hi: int) -> tuple[int, int]:
    ends = (constant * lo, constant * hi)
    return min(ends), max(ends)


def row_range(row: Row, inputs: InputWires) -> tuple[int, int]:
    """The exact range of ``sum x[i] * c`` over every input code in ``[lo, hi]``."""
    ranges = [term_range(c, inputs.lo, inputs.hi) for _, c in row if c != 0]
    return sum(r[0] for r in ranges), sum(r[1] for r in ranges)


def _width_of(coefficients: dict[int, int], inputs: InputWires) -> int:
    return signed_width(*row_range(list(coefficients.items()), inputs))


def formula(row: Row, inputs: InputWires) -> str:
    """``5*x0 - 3*x2 + x7``: the row as a comment shows it."""
    parts = []
    for i, c in row:
        if c == 0:
            continue
        magnitude = "" if abs(c) == 1 else f"{abs(c)}*"
        parts.append(("- " if c < 0 else "+ ") + magnitude + inputs.names[i])
    if not parts:
        return "0"
    text = " ".join(parts)
    return text[2:] if text.startswith("+") else "-" + text[2:]


def _combine(a: Operand, b: Operand, wire: str, inputs: InputWires) -> tuple[Operand, str]:
    """A new tree node adding ``a`` and ``b`` (with their signs) and the line that defines it.

    The node's wire leaves out the zeros both operands have below them: it holds the sum shifted
    right by the smaller shift, which the node keeps as its own shift.
    """
    if a.negative == b.negative:  # a + b (or -(a + b) when both are subtracted)
        first, op, second, negative, scale = a, "+", b, a.negative, 1
    else:  # the positive one minus the negative one
        first, second = (a, b) if b.negative else (b, a)
        op, negative, scale = "-", False, -1
    below = min(a.shift, b.shift)
    coefficients = {i: c << (first.shift - below) for i, c in first.coefficients.items()}
    for i, c in second.coefficients.items():
        coefficients[i] = coefficients.get(i, 0) + scale * (c << (second.shift - below))
    width = _width_of(coefficients, inputs)
    line = f"    wire signed {vector(width)} {wire} = {first.at(width, below)} {op} {second.at(width, below)};"
    return Operand(wire, width, below, negative, coefficients), line


def _reads_all_bits(operand: Operand, width: int, below: int) -> bool:
    """Whether a node ``width`` bits wide reads every bit of ``operand`` (it may need fewer: ``4x + y``
    minus ``x`` spans less than ``4x + y``, and the modular sum drops the operand's top bits)."""
    return operand.width + operand.shift - below <= width


def _csd_row(row: Row, inputs: InputWires, name: str) -> tuple[list[str], RowSum]:
    leaves = [Operand(inputs.names[i], inputs.width, shift, sign < 0, {i: 1})
              for i, c in row if c != 0 for shift, sign in csd_digits(c)]
    lines: list[str] = []
    digits = [describe_digits(c) for _, c in row if c != 0 and not _power_of_two(abs(c))]
    if digits:
        lines += _wrapped("    //   digits: ", "; ".join(digits))
    level = leaves
    count = 0
    truncated: set[str] = set()
    while len(level) > 1:
        merged = []
        for k in range(0, len(level) - 1, 2):
            a, b = level[k], level[k + 1]
            # the last node is the row's wire, unless it holds the negated or shifted sum
            if len(level) == 2 and not (a.negative and b.negative) and min(a.shift, b.shift) == 0:
                wire = name
            else:
                wire, count = f"{name}_{count}", count + 1
            node, line = _combine(a, b, wire, inputs)
            truncated |= {o.wire for o in (a, b) if not _reads_all_bits(o, node.width, node.shift)}
            merged.append(node)
            lines.append(line)
        if len(level) % 2:
            merged.append(level[-1])
        level = merged
    total = _row_sum(row, inputs, name)
    return _waive_unread_bits(lines, truncated) + _root(level[0] if level else None, name, total), total


def _waive_unread_bits(lines: list[str], wires: set[str]) -> list[str]:
    """Wrap the declarations of ``wires`` (whose top bits the next sum drops) in a lint waiver."""
    waived = []
    for line in lines:
        words = line.split()
        if len(words) > 3 and words[0] == "wire" and words[3] in wires:
            waived += ["    // lint waiver: the next sum reads only the low bits of this wire (its exact range is",
                       "    // narrower; the bits above cancel), so Verilator would call the top bits unused",
                       "    /* verilator lint_off UNUSEDSIGNAL */", line, "    /* verilator lint_on UNUSEDSIGNAL */"]
        else:
            waived.append(line)
    return waived


def _root(root: Operand | None, name: str, total: RowSum) -> list[str]:
    """The line defining the row's wire, unless the tree's last node already is that wire."""
    if root is None:
        return [f"    wire signed [0:0] {name} = 1'b0;  // every constant of this row is zero"]
    if root.wire == name:
        return []  # the tree's last node
    # Yosys 0.23 reads "-9'(x)" as a cast to -9 bits: the negation goes outside parentheses
    value = f"-({root.at(total.width)})" if root.negative else root.at(total.width)
    return [f"    wire signed {vector(total.width)} {name} = {value};"]


def _row_sum(row: Row, inputs: InputWires, name: str) -> RowSum:
    lo, hi = row_range(row, inputs)
    return RowSum(name, signed_width(lo, hi), lo, hi)


def _multiply_row(row: Row, inputs: InputWires, name: str) -> tuple[list[str], RowSum]:
    total = _row_sum(row, inputs, name)
    w = total.width
    terms = [f"{w}'({inputs.names[i]}) * {_constant(c, w)}" for i, c in row if c != 0]
    expr = " + ".join(terms) if terms else "1'b0"
    return [f"    wire signed {vector(w)} {name} = {expr};"], total


def _constant(value: int, width: int) -> str:
    magnitude = f"{width}'sd{abs(value)}" if abs(value) >= 2**31 else str(abs(value))
    return f"{width}'(-{magnitude})" if value < 0 else f"{width}'({magnitude})"


def _power_of_two(value: int) -> bool:
    return value & (value - 1) == 0


def _wrapped(prefix: str, text: str, limit: int = 110) -> list[str]:
    lines, current = [], prefix
    for word in text.split(" "):
        if len(current) + len(word) + 1 > limit and current.strip() not in ("//", prefix.strip()):
            lines.append(current.rstrip())
            current = "    //     "
        current += word + " "
    return [*lines, current.rstrip()]


def product_rows(rows: Sequence[Row], inputs: InputWires, prefix: str, style: str,
                 labels: Sequence[str] | None = None) -> tuple[list[str], list[RowSum]]:
    """The lines defining one wire per row (``{prefix}{j}``), and each row's sum (its wire and exact range)."""
    if style not in PRODUCT_STYLES:
        raise HardwareError(f"unknown products style '{style}'; use one of: {', '.join(PRODUCT_STYLES)}")
    build = _csd_row if style == "csd" else _multiply_row
    lines: list[str] = []
    sums = []
    for j, row in enumerate(rows):
        name = f"{prefix}{j}"
        label = labels[j] if labels is not None else f"{prefix} {j}"
        lines += _wrapped(f"    // {label}: {name} = ", formula(row, inputs))
        row_lines, total = build(row, inputs, name)
        lines += row_lines
        sums.append(total)
    return lines, sums

