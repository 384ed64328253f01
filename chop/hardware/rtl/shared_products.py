"""The ``"shared"`` products style: a layer's row sums as one adder graph whose common sums are computed once.

``chop.hardware.rtl.subexpressions`` finds the sums of signed, shifted inputs that several rows
contain; each becomes a wire of its exact width (``row_shared3 = x0 - 2*x5``), and each row adds
what is left of it (its own digits and shifted copies of shared wires) two terms at a time, the
two smallest first. This is the idea of da4ml's CMVM solver, written in machop's style: every wire
exactly as wide as its range, the formulas in comments.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import replace

from chop.hardware.rtl.adder_tree import (InputWires, Operand, Row, RowSum, combine, formula, is_row_wire,
                                          reads_all_bits, root, waive_unread_bits, wrapped)
from chop.hardware.rtl.csd import csd_digits
from chop.hardware.rtl.subexpressions import share_subexpressions


def depth_bound(rows: Sequence[Row]) -> int:
    """How deep a shared sum may sit: as deep as the deepest row's own balanced tree of digits."""
    digits = max((sum(len(csd_digits(c)) for _, c in row) for row in rows), default=1)
    return max(1, math.ceil(math.log2(max(digits, 1))))


def shared_rows(rows: Sequence[Row], inputs: InputWires, prefix: str,
                labels: Sequence[str]) -> tuple[list[str], list[RowSum]]:
    """The lines defining the shared sums, then one wire per row (``{prefix}{j}``), and each row's sum."""
    matrix = [[0] * len(inputs.names) for _ in rows]
    for j, row in enumerate(rows):
        for i, c in row:
            matrix[j][i] = c
    graph = share_subexpressions(matrix, depth_bound(rows), inputs.lo, inputs.hi)
    csd_adders = sum(max(sum(len(csd_digits(c)) for _, c in row) - 1, 0) for row in rows)
    operands = [Operand(name, inputs.width, 0, False, {i: 1}) for i, name in enumerate(inputs.names)]
    lines: list[str] = []
    if graph.shared:
        lines.append(f"    // sums that several rows contain, computed once ({graph.adders} adders in all, "
                     f"{csd_adders} without sharing)")
    truncated: set[str] = set()
    for k, node in enumerate(graph.shared):
        first = operands[node.first]
        second = replace(operands[node.second], shift=node.shift, negative=node.sign < 0)
        wire = f"{prefix}_shared{k}"
        value, line = combine(first, second, wire, inputs)
        truncated |= {o.wire for o in (first, second) if not reads_all_bits(o, value)}
        lines += [f"    // {wire} = {formula(sorted(value.coefficients.items()), inputs)}", line]
        operands.append(value)
    sums = []
    for j, (row, terms) in enumerate(zip(rows, graph.rows)):
        name = f"{prefix}{j}"
        leaves = [replace(operands[t.node], shift=t.shift, negative=t.sign < 0) for t in terms]
        lines += wrapped(f"    // {labels[j]}: {name} = ", formula(row, inputs))
        row_lines, total, row_truncated = _row_tree(leaves, row, inputs, name)
        lines += row_lines
        truncated |= row_truncated
        sums.append(total)
    # a shared wire may lose its top bits in another row's adder: waive over every line at once
    return waive_unread_bits(lines, truncated), sums


def _top_bit(operand: Operand) -> int:
    """The bit above the operand's highest: its width plus its shift."""
    return operand.width + operand.shift


def _row_tree(leaves: list[Operand], row: Row, inputs: InputWires,
              name: str) -> tuple[list[str], RowSum, set[str]]:
    """A row's terms added two at a time, the two smallest first (Huffman's rule on their top bits).

    Each adder costs about a LUT per bit above its operands' shared zeros, so small terms meet
    while their sums are narrow and only the last adders are as wide as the row. On the layers
    measured this takes 6-7 % fewer LUTs than a balanced tree (Yosys 0.23); the price is depth:
    a row of many small terms and one large one becomes a chain. Also returned: the wires whose
    top bits the row's adders do not read.
    """
    heap = [(_top_bit(operand), k, operand) for k, operand in enumerate(leaves)]
    heapq.heapify(heap)
    lines: list[str] = []
    truncated: set[str] = set()
    count = len(heap)
    while len(heap) > 1:
        _, _, a = heapq.heappop(heap)
        _, _, b = heapq.heappop(heap)
        wire = name if not heap and is_row_wire(a, b) else f"{name}_{count - len(leaves)}"
        node, line = combine(a, b, wire, inputs)
        truncated |= {o.wire for o in (a, b) if not reads_all_bits(o, node)}
        lines.append(line)
        heapq.heappush(heap, (_top_bit(node), count, node))
        count += 1
    root_lines, total = root(heap[0][2] if heap else None, row, inputs, name)
    return lines + root_lines, total, truncated
