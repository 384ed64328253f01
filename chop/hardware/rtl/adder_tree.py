"""What every style of constant products builds from: input wires, exact-width operands, adder-tree nodes.

A row sum ``sum_i x[i] * c[i]`` becomes a tree of two-input adders over shifted copies of its
inputs (or of sums shared between rows). Every wire of the tree is exactly as wide as the values
it can hold: each node is a known multiple of each input element (``Operand.coefficients``), so
its range follows from the input format's code range. The additions are modular in the width of
the node they define, which is exact because every node's true value fits that width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chop.hardware.rtl.verilog import signed_width, vector

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

    def extended(self, width: int, below: int = 0) -> str:
        """``wire << (shift - below)`` as ``width`` unsigned bits: sign bits and zeros concatenated by hand.

        Yosys's ``alumacc`` merges an adder into the one it feeds when it sees the operand as a signed
        extension of the adder's output (``12'(s)``), and a tree of merged adders becomes one ``$macc``
        (a compressor of full adders, then one carry chain). Written as a concatenation, each adder
        stays an ``$alu``: a carry chain of about one LUT per bit, which is smaller.
        """
        shift = self.shift - below
        top = width - self.width - shift  # sign bits above the wire; negative: the wire's top bits are not read
        parts = ([f"{self.wire}[{self.width - 1}]" if top == 1 else f"{{{top}{{{self.wire}[{self.width - 1}]}}}}"]
                 if top > 0 else [])
        if top >= 0:
            parts.append(self.wire)
        elif width - shift == 1:
            parts.append(f"{self.wire}[0]")
        else:
            parts.append(f"{self.wire}[{width - shift - 1}:0]")
        if shift:
            parts.append(f"{shift}'b0")
        return parts[0] if len(parts) == 1 else "{" + ", ".join(parts) + "}"


@dataclass(frozen=True)
class RowSum:
    """A row's sum on a wire of its exact width; ``lo``/``hi`` are the range of what the wire holds.

    ``negated``: the wire holds minus the row's sum (a tree whose terms are all subtracted adds
    them, and the sign stays outside). The layer's offset adder then subtracts the wire instead of
    adding it, which costs nothing, where a negation of its own would be another carry chain.
    """

    wire: str
    width: int
    lo: int
    hi: int
    negated: bool = False

    def offset_range(self, shift: int, offset: int) -> tuple[int, int]:
        """The exact range of the row's ``(sum << shift) + offset``: what its accumulator holds."""
        if self.negated:
            return offset - (self.hi << shift), offset - (self.lo << shift)
        return (self.lo << shift) + offset, (self.hi << shift) + offset


def term_range(constant: int, lo: int, hi: int) -> tuple[int, int]:
    ends = (constant * lo, constant * hi)
    return min(ends), max(ends)


def row_range(row: Row, inputs: InputWires) -> tuple[int, int]:
    """The exact range of ``sum x[i] * c`` over every input code in ``[lo, hi]``."""
    ranges = [term_range(c, inputs.lo, inputs.hi) for _, c in row if c != 0]
    return sum(r[0] for r in ranges), sum(r[1] for r in ranges)


def width_of(coefficients: dict[int, int], inputs: InputWires) -> int:
    """The exact signed width of a node holding ``coefficients`` of the inputs."""
    return signed_width(*row_range(list(coefficients.items()), inputs))


def row_sum(row: Row, inputs: InputWires, name: str) -> RowSum:
    lo, hi = row_range(row, inputs)
    return RowSum(name, signed_width(lo, hi), lo, hi)


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


def wrapped(prefix: str, text: str, limit: int = 110) -> list[str]:
    """A comment ``prefix + text`` in lines of at most ``limit`` characters, continued indented."""
    lines, current = [], prefix
    for word in text.split(" "):
        if len(current) + len(word) + 1 > limit and current.strip() not in ("//", prefix.strip()):
            lines.append(current.rstrip())
            current = "    //     "
        current += word + " "
    return [*lines, current.rstrip()]


def combine(a: Operand, b: Operand, wire: str, inputs: InputWires) -> tuple[Operand, str]:
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
    width = width_of(coefficients, inputs)
    line = f"    wire signed {vector(width)} {wire} = {first.extended(width, below)} {op} {second.extended(width, below)};"
    return Operand(wire, width, below, negative, coefficients), line


def reads_all_bits(operand: Operand, node: Operand) -> bool:
    """Whether ``node`` reads every bit of its operand ``operand`` (it may need fewer: ``4x + y``
    minus ``x`` spans less than ``4x + y``, and the modular sum drops the operand's top bits)."""
    return operand.width + operand.shift - node.shift <= node.width


def waive_unread_bits(lines: list[str], wires: set[str]) -> list[str]:
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


def is_row_wire(a: Operand, b: Operand) -> bool:
    """Whether the node adding ``a`` and ``b`` as a row's last can be the row's wire itself (it cannot
    when it holds the sum shifted)."""
    return min(a.shift, b.shift) == 0


def root(top: Operand | None, row: Row, inputs: InputWires, name: str) -> tuple[list[str], RowSum]:
    """The line defining the row's wire (unless the tree's last node already is that wire) and the
    row's sum: minus the tree's value when the tree is negative (``RowSum.negated``)."""
    lo, hi = row_range(row, inputs)
    if top is None:
        return [f"    wire signed [0:0] {name} = 1'b0;  // every constant of this row is zero"], RowSum(name, 1, 0, 0)
    lines = []
    if top.negative:
        lo, hi = -hi, -lo
        lines.append(f"    // {name} holds minus this sum (every term subtracted): the offset adder subtracts it")
    total = RowSum(name, signed_width(lo, hi), lo, hi, top.negative)
    if top.wire != name:  # else the tree's last node is the row's wire
        lines.append(f"    wire signed {vector(total.width)} {name} = {top.at(total.width)};")
    return lines, total
