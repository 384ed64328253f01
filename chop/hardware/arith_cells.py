"""What Yosys ``synth_xilinx`` builds of a layer's additions: carry-chain adders and compressor trees.

A layer's constant products are a graph of sums (``SumGraph``): each node adds two shifted,
signed operands (input elements or other nodes), as ``chop.hardware.rtl.products`` writes them.
Yosys does not map each node to its own adder. Three of its steps decide what is built, and
this module replays them on the graph, from the widths alone:

- ``opt_merge`` gives identical nodes one cell, in a row or across rows (``share_identical``);
- ``alumacc`` folds a node into the node that reads it when the operand is the node's whole
  output, unshifted, read nowhere else and provably not wrapped (``merge_sums``); a merged
  sum of more than two operands becomes one ``$macc``, a sum of two an ``$alu``;
- ``maccmap`` turns each ``$macc`` into a tree of full adders over bit columns (every signed
  operand sign-extended to the full width, a subtracted one inverted, equal bits of a column
  combined), then one carry-chain adder over the last two words (``compress``).

The result (``ArithCells``) counts the bits of each kind of logic that is left: full and half
adders of the compressor trees, and the carry-chain adders' bits with two inputs or one. The
LUTs they cost are fitted in ``chop.hardware.estimate``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

CARRY_BITS = 4  # result bits per CARRY4

Source = tuple[str, int]
"""``("x", i)``: input element ``i``; ``("sum", k)``: node ``k`` of the graph."""


@dataclass(frozen=True)
class Term:
    """An operand of a node: ``source << shift``, subtracted when ``negative``.

    """

    source: Source
    shift: int
    negative: bool


@dataclass(frozen=True)
class Sum:
    """One node: the sum of its terms and a constant, on a signed wire ``width`` bits wide.

    ``concatenated``: the emitter writes each operand widened by hand, ``{copies of its top bit,
    the wire, zeros}`` (an unsigned expression); else by a signed cast, ``W'(wire) << shift``.
    """

    terms: tuple[Term, ...]
    width: int
    constant: int = 0
    concatenated: bool = False


@dataclass
class SumGraph:
    """The sums of one layer module and the values read from outside it (each output once).

    ``input_width`` is the width of each input element's signed wire; ``input_signed`` is false
    when its top bit is a constant zero (an unsigned format widened by one bit).
    """

    input_width: int
    input_signed: bool
    sums: list[Sum] = field(default_factory=list)
    outputs: list[Term] = field(default_factory=list)

    def add(self, node: Sum) -> Source:
        self.sums.append(node)
        return ("sum", len(self.sums) - 1)


@dataclass(frozen=True)
class ArithCells:
    """Bits of logic of the cells Yosys builds from a ``SumGraph``.

    ``full_adder_bits`` / ``half_adder_bits``: compressor-tree bits adding three / two signals;
    carry-chain bits from the chain's first bit where both operands have one: ``adder_bits`` add
    two signals, ``constant_bits`` a signal and a constant one (its propagate is an inverter),
    ``carry_bits`` at most one signal and the carry; ``carry4``: the chains' CARRY4 cells.
    """

    full_adder_bits: int = 0
    half_adder_bits: int = 0
    adder_bits: int = 0
    constant_bits: int = 0
    carry_bits: int = 0
    carry4: int = 0

    def plus(self, other: ArithCells) -> ArithCells:
        return ArithCells(*(getattr(self, name) + getattr(other, name) for name in self.__dataclass_fields__))


def share_identical(graph: SumGraph) -> SumGraph:
    """The graph with every node that repeats an earlier one (same terms, constant and width:
    ``opt_merge``, for which an addition's operands commute) replaced by that one."""
    keys: dict[tuple[object, ...], Source] = {}
    renamed: dict[Source, Source] = {}
    shared = SumGraph(graph.input_width, graph.input_signed)
    for k, node in enumerate(graph.sums):
        terms = tuple(Term(renamed.get(t.source, t.source), t.shift, t.negative) for t in node.terms)
        positive = sorted((t.source, t.shift) for t in terms if not t.negative)
        key = (tuple(positive), tuple(t for t in terms if t.negative), node.constant, node.width, node.concatenated)
        if key not in keys:
            keys[key] = shared.add(Sum(terms, node.width, node.constant, node.concatenated))
        renamed[("sum", k)] = keys[key]
    shared.outputs = [Term(renamed.get(t.source, t.source), t.shift, t.negative) for t in graph.outputs]
    return shared


@dataclass(frozen=True)
class Wire:
    """A value as Yosys sees it after ``wreduce``: the ``bits`` of its wire that a cell drives, and
    whether its readers take the top one for a sign (``signed``) or find constant zeros above it
    (an unsigned input's wire, or a sum whose cell ``wreduce`` narrowed)."""

    bits: int
    signed: bool


@dataclass(frozen=True)
class Port:
    """An operand as its cell reads it: the low ``bits`` of ``source`` at ``shift``, then, when the
    source's top bit is a signal (``signed_source``), copies of it up to ``size`` bits (a
    concatenation's hand-made extension) and above that too when the port is signed (``extends``);
    zeros otherwise. ``whole``: the port is exactly the source's output, the one form ``alumacc`` folds."""

    source: Source
    shift: int
    negative: bool
    bits: int
    size: int
    extends: bool
    signed_source: bool
    whole: bool


@dataclass(frozen=True)
class Cell:
    """A cell ``alumacc`` leaves: node ``node``'s value, from its operands (folded ones included)."""

    node: int
    ports: tuple[Port, ...]
    constant: int
    output: Wire
    signed: bool  # whether the cell reads its operands as signed

    @property
    def is_macc(self) -> bool:
        """More than two operands (the constant counts as one): ``maccmap``'s tree; else an ``$alu``."""
        return len(self.ports) + (1 if self.constant else 0) > 2


def _readers(graph: SumGraph) -> dict[Source, int]:
    """How many operands (and outputs of the graph) read each source."""
    readers: dict[Source, int] = {}
    for source in [t.source for node in graph.sums for t in node.terms] + [t.source for t in graph.outputs]:
        readers[source] = readers.get(source, 0) + 1
    return readers


def _declared(graph: SumGraph, source: Source) -> int:
    return graph.input_width if source[0] == "x" else graph.sums[source[1]].width


def _ports(graph: SumGraph, node: Sum, values: Mapping[Source, Wire],
           signed: bool | None = None) -> tuple[list[Port], bool]:
    """The ports of ``node``'s cell, and whether the cell reads them as signed.

    A cast operand is read as signed: its sign copies are dropped (``wreduce``), a zero bit stays on
    top of a value with zeros above it. A concatenated operand is unsigned: copies of a signal are
    kept as bits of the port, copies of a zero dropped; an operand written as the bare wire (as wide
    as the node, no shift) is the wire. ``wreduce`` reads a cell as unsigned when every port has a
    zero on top and the constant is not negative; a concatenation makes it unsigned unless every
    operand is a bare wire (both signed).
    """
    inputs = [values[t.source] for t in node.terms]
    reads = [min(v.bits, max(node.width - t.shift, 1)) for t, v in zip(node.terms, inputs)]
    bare = [t.shift == 0 and _declared(graph, t.source) == node.width for t in node.terms]
    if signed is None:
        zero_tops = all(not v.signed for v in inputs) and node.constant >= 0
        signed = not zero_tops and (not node.concatenated or all(bare))
    ports = []
    for term, value, bits in zip(node.terms, inputs, reads):
        whole = term.shift == 0 and term.source[0] == "sum" and bits == value.bits
        if signed or not node.concatenated or not value.signed:
            zero = signed and not value.signed  # a cast's zero bit on top of an unsigned value
            ports.append(Port(term.source, term.shift, term.negative, bits, bits + term.shift + zero, signed,
                              value.signed, whole and not zero))
        else:  # the hand-made copies of a signal's top bit fill the node's width
            ports.append(Port(term.source, term.shift, term.negative, bits, node.width, False, True,
                              whole and bits == node.width))
    return ports, signed


def _output(node: Sum, ports: Sequence[Port], signed: bool) -> Wire:
    """A cell's value: a signed cell drives its whole wire; an unsigned one ``wreduce`` narrows to one
    bit above its widest operand, zeros above (copies of the top when it subtracts)."""
    if signed:
        return Wire(node.width, True)
    widest = max([p.size for p in ports] + [node.constant.bit_length()])
    bits = min(node.width, widest + 1)
    return Wire(bits, bits == node.width or any(p.negative for p in ports))


def _may_wrap(sizes: Sequence[int], constant: int, width: int) -> bool:
    """``alumacc``'s test before it folds a sum into its reader: whether the sum of the operands'
    largest magnitudes (each as wide as its port) may need more than ``width`` bits."""
    if constant:
        sizes = [*sizes, _signed_bits(constant)]
    return (sum((1 << size) - 1 for size in sizes)).bit_length() > width


def _signed_bits(value: int) -> int:
    return (value if value >= 0 else ~value).bit_length() + 1


def cells_of(graph: SumGraph) -> list[Cell]:
    """One cell per node, before folding: its ports and value as ``wreduce`` leaves them. A node read
    by one node only keeps the bits that node reads (``wreduce`` drops unused top bits)."""
    values: dict[Source, Wire] = {}
    leaf = Wire(graph.input_width, True) if graph.input_signed else Wire(graph.input_width - 1, False)
    for node in graph.sums:
        values.update({t.source: leaf for t in node.terms if t.source[0] == "x"})
    signs = []
    for k, node in enumerate(graph.sums):
        ports, signed = _ports(graph, node, values)
        values[("sum", k)] = _output(node, ports, signed)
        signs.append(signed)
    readers = _readers(graph)
    for k in reversed(range(len(graph.sums))):
        for term in graph.sums[k].terms:
            if term.source[0] == "sum" and readers[term.source] == 1:
                value, read = values[term.source], max(values[("sum", k)].bits - term.shift, 1)
                if read < value.bits:
                    values[term.source] = Wire(read, True)
    cells = []
    for k, node in enumerate(graph.sums):
        ports, _ = _ports(graph, node, values, signs[k])  # wreduce decided the signs before it cut
        cells.append(Cell(k, tuple(ports), node.constant, values[("sum", k)], signs[k]))
    return cells


def merge_sums(graph: SumGraph) -> list[Cell]:
    """The cells ``alumacc`` leaves, in node order.

    A node folds into the node that reads it when that reads its whole output (``Port.whole``),
    nothing else reads it, and either both are as wide or the node's operands (its folded ones
    included) provably fit its width: each read as the reader reads this one (signed or not), none
    subtracted if unsigned, and the sum of their largest magnitudes within its bits. Folding repeats
    until nothing changes, as ``alumacc`` does.
    """
    readers = _readers(graph)
    cells = {cell.node: cell for cell in cells_of(graph)}

    def foldable(port: Port, outer: Cell) -> bool:
        source = port.source
        if not port.whole or source[1] not in cells or source[1] == outer.node or readers.get(source, 0) > 1:
            return False
        inner = cells[source[1]]
        if inner.output.bits > outer.output.bits:
            return False
        if inner.output.bits == outer.output.bits:
            return True
        if any(p.extends != outer.signed or (p.negative and not p.extends) for p in inner.ports):
            return False  # an operand read otherwise than the reader reads this one, or an unsigned one subtracted
        return not _may_wrap([p.size for p in inner.ports], inner.constant, inner.output.bits)

    changed = True
    while changed:
        changed = False
        for k in list(cells):
            if k not in cells:
                continue
            outer = cells[k]
            ports: list[Port] = []
            constant = outer.constant
            for port in outer.ports:
                if foldable(port, outer):
                    inner = cells.pop(port.source[1])
                    ports += [replace(p, negative=p.negative != port.negative) for p in inner.ports]
                    constant += -inner.constant if port.negative else inner.constant
                    changed = True
                else:
                    ports.append(port)
            cells[k] = replace(outer, ports=tuple(ports), constant=constant)
    return [cells[k] for k in sorted(cells)]


_ZERO, _ONE = ("0",), ("1",)


def _operand_bit(port: Port, column: int) -> tuple[object, ...]:
    """Bit ``column`` of an operand shifted and extended: one of its source's bits, or zero."""
    index = column - port.shift
    if index < 0:
        return _ZERO
    if index < port.bits:
        return port.source + (index,)
    return port.source + (port.bits - 1,) if port.signed_source and (column < port.size or port.extends) else _ZERO


def _columns(ports: Sequence[Port], constant: int, width: int) -> list[set[tuple[object, ...]]]:
    """``maccmap``'s bit columns: each operand extended to ``width`` (inverted, plus one, when
    subtracted), the constant's bits, and two equal bits of a column moved up as one."""
    columns: list[set[tuple[object, ...]]] = [set() for _ in range(width)]

    def add(bit: tuple[object, ...], position: int) -> None:
        while position < width and bit != _ZERO:
            if bit in columns[position]:
                columns[position].discard(bit)
                position += 1
            else:
                columns[position].add(bit)
                return

    for n, port in enumerate(ports):
        for column in range(width):
            bit = _operand_bit(port, column)
            if port.negative:
                bit = _ONE if bit == _ZERO else ("not", n, column)
            add(bit, column)
        if port.negative:
            add(_ONE, 0)
    for column in range(width):
        if (constant >> column) & 1:
            add(_ONE, column)
    return columns


def compress(columns: Sequence[set[tuple[object, ...]]]) -> ArithCells:
    """``maccmap``'s adder tree over the columns: words of one bit per column, full adders on three
    words at a time until two are left, then one carry-chain adder."""
    width = len(columns)
    signals = [sum(1 for bit in column if bit != _ONE) for column in columns]
    ones = [_ONE in column for column in columns]
    # word k holds the k-th bit of each column: 2 a signal, 1 the constant one, 0 nothing
    words = [[2 if k < signals[c] else (1 if k == signals[c] and ones[c] else 0) for c in range(width)]
             for k in range(max((len(column) for column in columns), default=0))]
    full = half = 0
    while len(words) > 2:
        new = []
        k = 0
        while k < len(words):
            if k + 2 < len(words):
                sums, carries = [0] * width, [0] * width
                for c in range(width):
                    bits = [words[k][c], words[k + 1][c], words[k + 2][c]]
                    live, constant = bits.count(2), bits.count(1)
                    full += live == 3
                    half += live == 2
                    if live:
                        sums[c] = 2
                        carry = 2 if live + constant >= 2 else 0
                    else:
                        sums[c] = constant % 2
                        carry = 1 if constant >= 2 else 0
                    if c + 1 < width:
                        carries[c + 1] = carry
                new += [sums, carries]
                k += 3
            else:
                new.append(words[k])
                k += 1
        words = new
    if len(words) < 2:
        return ArithCells(full, half)
    return ArithCells(full, half).plus(carry_chain(words[0], words[1]))


def carry_chain(a: Sequence[int], b: Sequence[int]) -> ArithCells:
    """A two-operand adder (bits 0: none, 1: a constant one, 2: a signal): free below the first bit
    where both operands have a bit; from there one CARRY4 per four bits."""
    start = next((c for c, (x, y) in enumerate(zip(a, b)) if x and y), len(a))
    pairs = [tuple(sorted((a[c], b[c]))) for c in range(start, len(a))]
    adder, constant = pairs.count((2, 2)), pairs.count((1, 2))
    return ArithCells(adder_bits=adder, constant_bits=constant, carry_bits=len(pairs) - adder - constant,
                      carry4=math.ceil(len(pairs) / CARRY_BITS))


def arith_cells(graph: SumGraph) -> ArithCells:
    """The logic Yosys builds of ``graph``'s sums: shared, merged, then each cell mapped."""
    total = ArithCells()
    for cell in merge_sums(share_identical(graph)):
        width = cell.output.bits
        if cell.is_macc:
            total = total.plus(compress(_columns(cell.ports, cell.constant, width)))
            continue
        # an $alu: its operands as words; a subtracted one is inverted (its zeros become ones) and
        # its plus one goes in as the carry
        words = [[2 if _operand_bit(port, c) != _ZERO else (1 if port.negative else 0) for c in range(width)]
                 for port in cell.ports]
        if cell.constant:
            words.append([1 if (cell.constant >> c) & 1 else 0 for c in range(width)])
        elif len(words) == 1:  # -x = ~x + 1: an incrementer (+x alone is a wire)
            words.append([1 if cell.ports[0].negative and c == 0 else 0 for c in range(width)])
        total = total.plus(carry_chain(words[0], words[1]))
    return total


def two_operand_adder(width: int, a: tuple[int, int, bool], b: tuple[int, int, bool]) -> ArithCells:
    """An adder of two signals, each ``(shift, width, signed)``, sign-extended to ``width`` bits when signed."""
    def word(shift: int, bits: int, signed: bool) -> list[int]:
        return [2 if shift <= c < shift + bits or (signed and c >= shift) else 0 for c in range(width)]

    return carry_chain(word(*a), word(*b))
