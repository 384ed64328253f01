"""The additions a linear or affine layer module is written as: one graph of sums per product style.

``chop.hardware.rtl.products`` writes a layer's constant products in one of its styles; this module
builds the same adders as a ``chop.hardware.arith_cells.SumGraph`` (operands, shifts, signs and
exact widths, in the emitter's order), without writing Verilog, so that the estimate can count what
Yosys makes of them. One builder per style (``PRODUCT_SUMS``):

- ``"shared"``: the sums several rows contain (``chop.hardware.rtl.subexpressions``), then each
  row's remaining terms added two at a time, the two with the lowest top bit first;
- ``"csd"``: each row's CSD digits in a balanced tree, neighbours added in pairs.

Either way a node is as wide as its exact range over the input codes, its operands are written
with hand-made sign extension (``Sum.concatenated``), and a row whose root is negative is
subtracted by the layer's offset adder (a cast), not negated on a node of its own.
``tests/hardware/test_product_sums.py`` checks every builder against the emitter's text.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from chop.errors import HardwareError
from chop.hardware.arith_cells import Source, Sum, SumGraph, Term
from chop.hardware.fixed import FixedFormat
from chop.hardware.rtl.csd import csd_digits
from chop.hardware.rtl.shared_products import depth_bound
from chop.hardware.rtl.subexpressions import share_subexpressions
from chop.hardware.rtl.verilog import signed_width

Row = Sequence[tuple[int, int]]
"""One row: ``(input element, constant code)`` pairs."""


@dataclass(frozen=True)
class _Operand:
    """A value of a row's tree as the emitter builds it: ``±(coefficients · x) << shift``, on the
    wire of ``source``."""

    source: Source
    shift: int
    negative: bool
    coefficients: dict[int, int]


def _range(coefficients: Mapping[int, int], lo: int, hi: int) -> tuple[int, int]:
    return (sum(min(c * lo, c * hi) for c in coefficients.values()),
            sum(max(c * lo, c * hi) for c in coefficients.values()))


def _add(graph: SumGraph, a: _Operand, b: _Operand, lo: int, hi: int) -> _Operand:
    """The node adding ``a`` and ``b`` with their signs, as ``chop.hardware.rtl.adder_tree.combine``
    writes it: the positive one minus the negative one (or both added, the sign kept outside), on a
    wire that leaves out the zeros both have below them."""
    below = min(a.shift, b.shift)
    if a.negative == b.negative:
        first, second, scale, negative = a, b, 1, a.negative
    else:
        first, second = (a, b) if b.negative else (b, a)
        scale, negative = -1, False
    coefficients = {i: c << (first.shift - below) for i, c in first.coefficients.items()}
    for i, c in second.coefficients.items():
        coefficients[i] = coefficients.get(i, 0) + scale * (c << (second.shift - below))
    node = graph.add(Sum((Term(first.source, first.shift - below, False),
                          Term(second.source, second.shift - below, scale < 0)),
                         signed_width(*_range(coefficients, lo, hi)), concatenated=True))
    return _Operand(node, below, negative, coefficients)


def _row_value(root: _Operand | None) -> Term | None:
    """The row's value: its tree's root, shifted, subtracted when the root is negative (the layer's
    offset adder subtracts it, ``RowSum.negated``)."""
    if root is None:
        return None
    return Term(root.source, root.shift, root.negative)


def _digits(row: Row) -> list[_Operand]:
    return [_Operand(("x", i), shift, sign < 0, {i: 1}) for i, c in row if c != 0 for shift, sign in csd_digits(c)]


def csd_rows(graph: SumGraph, rows: Sequence[Row], lo: int, hi: int) -> list[Term | None]:
    """Style ``"csd"``: each row's digits in a balanced tree (each level adds neighbours in pairs, an
    odd one out moves up); each row's value, ``None`` for a zero row."""
    values = []
    for row in rows:
        level = _digits(row)
        while len(level) > 1:
            merged = [_add(graph, a, b, lo, hi) for a, b in zip(level[0::2], level[1::2])]
            level = merged + ([level[-1]] if len(level) % 2 else [])
        values.append(_row_value(level[0] if level else None))
    return values


def shared_rows(graph: SumGraph, rows: Sequence[Row], lo: int, hi: int) -> list[Term | None]:
    """Style ``"shared"``: the shared sums first (``share_subexpressions``, as
    ``chop.hardware.rtl.shared_products`` bounds their depth), then each row's terms two at a time,
    the two with the lowest top bit first (ties: the earlier)."""
    width = 1 + max((i for row in rows for i, _ in row), default=0)
    matrix = [[0] * width for _ in rows]
    for j, row in enumerate(rows):
        for i, c in row:
            matrix[j][i] = c
    plan = share_subexpressions(matrix, depth_bound(rows), lo, hi)
    operands = [_Operand(("x", i), 0, False, {i: 1}) for i in range(width)]
    for node in plan.shared:
        second = replace(operands[node.second], shift=node.shift, negative=node.sign < 0)
        operands.append(_add(graph, operands[node.first], second, lo, hi))
    values = []
    for terms in plan.rows:
        heap = [(_top_bit(graph, operand), k, operand)
                for k, operand in enumerate(replace(operands[t.node], shift=t.shift, negative=t.sign < 0)
                                            for t in terms)]
        heapq.heapify(heap)
        count = len(heap)
        while len(heap) > 1:
            _, _, a = heapq.heappop(heap)
            _, _, b = heapq.heappop(heap)
            node = _add(graph, a, b, lo, hi)
            heapq.heappush(heap, (_top_bit(graph, node), count, node))
            count += 1
        values.append(_row_value(heap[0][2] if heap else None))
    return values


def _top_bit(graph: SumGraph, operand: _Operand) -> int:
    """The bit above an operand's highest: its wire's width plus its shift."""
    width = graph.input_width if operand.source[0] == "x" else graph.sums[operand.source[1]].width
    return width + operand.shift


PRODUCT_SUMS: Mapping[str, Callable[[SumGraph, Sequence[Row], int, int], list[Term | None]]] = {
    "shared": shared_rows, "csd": csd_rows}
"""How each product style of ``chop.hardware.rtl.products`` builds a layer's rows: the nodes it adds."""


def product_graph(rows: Sequence[Row], offsets: Sequence[int], in_format: FixedFormat, shift: int, acc_width: int,
                  style: str) -> SumGraph:
    """The sums of a linear or affine layer module: its rows' products (``PRODUCT_SUMS[style]``), then
    ``fixed_linear``'s ``(sum <<< shift) + offset`` (a cast) where the offset is not zero, or
    ``offset - (sum <<< shift)`` for a row whose tree is negative (with a zero offset, a negation)."""
    if style not in PRODUCT_SUMS:
        raise HardwareError(f"the resource estimate has no model of products style '{style}'; "
                            f"use one of: {', '.join(PRODUCT_SUMS)}")
    lo, hi = in_format.lo, in_format.hi
    graph = SumGraph(in_format.width + (0 if in_format.signed else 1), in_format.signed)
    for value, offset in zip(PRODUCT_SUMS[style](graph, rows, lo, hi), offsets):
        if value is None:
            continue
        if offset or value.negative:
            term = Term(value.source, value.shift + shift, value.negative)
            graph.outputs.append(Term(graph.add(Sum((term,), acc_width, offset)), 0, False))
        else:
            graph.outputs.append(value)
    return graph
