"""Sums shared across the rows of a constant matrix: a greedy common-subexpression search over signed digits.

Every constant of ``W`` becomes its canonical signed digits, so row ``j`` of ``W @ x`` is a sum of
signed, shifted inputs (``5 x0 - 3 x2 = (x0 << 2) + x0 - (x2 << 2) + x2``). Two rows that both
contain ``x0 + (x2 << 1)``, each at its own shift and sign, can add it once and share the wire.
The search repeats one step (the pairwise elimination of Hartley's CSE, as Hcub and da4ml's CMVM
solver refine it): count every pair of terms in every row, normalised by shift and sign
(``(x0 << 3) - (x2 << 4)`` is ``x0 - (x2 << 1)`` at shift 3), take the best pair (below) as a new
shared node, and put that node back into each row where the pair occurs. A node is a term like any
other, so later pairs can contain earlier nodes (``x0 + (x2 << 1) + (x5 << 3)`` in two steps). It
stops when no pair occurs twice. Each shared node saves one adder per occurrence after the first.

Pairs are weighed by the bits of their adder as well as their count (da4ml's "weighted most
common" rule): sharing a wide sum saves more LUTs than sharing a narrow one. Depth is bounded: a
node sits ``1 + max(its operands' depths)`` adders above the inputs, and ``max_depth`` caps it, so
sharing never builds a chain much deeper than a row's own balanced tree. Ties go to the shallower
pair, then to the smaller shift between its terms, then to the lower node numbers, so the result
is deterministic.

Counting is incremental (see ``_PairCounts``): a substitution adds the pairs of the new term, and
the counts of pairs that lost a term are corrected only when such a pair reaches the top of the
heap. A jsc-toy design takes a tenth of a second; jsc-s's five layers take about 1.5 s at integer
8/4 and 1.1 s with 4-bit weights (pure Python, measured on a busy two-core machine): the pairs of
a row of ``t`` terms are ``t^2 / 2``.
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from chop.hardware.rtl.csd import csd_digits
from chop.hardware.rtl.verilog import signed_width


class Term(NamedTuple):
    """``sign * (node << shift)``; nodes below ``AdderGraph.inputs`` are input elements, the rest shared."""

    node: int
    shift: int
    sign: int  # +1 or -1


@dataclass(frozen=True)
class SharedNode:
    """``first + sign * (second << shift)``: a sum that two or more rows (or other shared nodes) read."""

    first: int
    second: int
    shift: int  # >= 0; with 0, first < second
    sign: int


@dataclass(frozen=True)
class AdderGraph:
    """Shared nodes (node ``inputs + k`` is ``shared[k]``) and what each row still adds: its terms."""

    inputs: int
    shared: tuple[SharedNode, ...]
    rows: tuple[tuple[Term, ...], ...]

    def coefficients(self) -> list[dict[int, int]]:
        """Per node, the multiple of each input element it holds (``{0: 1, 2: 2}``: ``x0 + 2 x2``)."""
        nodes: list[dict[int, int]] = [{i: 1} for i in range(self.inputs)]
        for node in self.shared:
            total = dict(nodes[node.first])
            for i, c in nodes[node.second].items():
                total[i] = total.get(i, 0) + node.sign * (c << node.shift)
            nodes.append({i: c for i, c in total.items() if c != 0})
        return nodes

    def depths(self) -> list[int]:
        """Per node, the adders between it and the inputs."""
        depth = [0] * self.inputs
        for node in self.shared:
            depth.append(1 + max(depth[node.first], depth[node.second]))
        return depth

    def evaluate(self, x: Sequence[int]) -> list[int]:
        """Every row's sum for the integer inputs ``x``, computed through the shared nodes."""
        values = list(x)
        for node in self.shared:
            values.append(values[node.first] + node.sign * (values[node.second] << node.shift))
        return [sum(t.sign * (values[t.node] << t.shift) for t in row) for row in self.rows]

    @property
    def adders(self) -> int:
        """Two-input adders in all: one per shared node, one fewer than its terms per row."""
        return len(self.shared) + sum(max(len(row) - 1, 0) for row in self.rows)


Key = tuple[int, int, int, int]
"""A pair of terms normalised by shift and sign: ``(first, second, shift, sign)`` as in ``SharedNode``."""


def _pair(a: Term, b: Term) -> Key:
    """The normalised pair of terms ``a`` and ``b``."""
    if (a.shift, a.node) > (b.shift, b.node):
        a, b = b, a
    return a.node, b.node, b.shift - a.shift, a.sign * b.sign


class _Row:
    """One row's terms, indexed by node (the pairs of a node are found without scanning the row)."""

    def __init__(self, terms: set[Term]) -> None:
        self.terms = terms
        self.by_node: dict[int, set[Term]] = {}
        for term in terms:
            self.by_node.setdefault(term.node, set()).add(term)

    def remove(self, term: Term) -> None:
        self.terms.remove(term)
        self.by_node[term.node].remove(term)

    def add(self, term: Term) -> None:
        self.terms.add(term)
        self.by_node.setdefault(term.node, set()).add(term)

    def occurrences(self, key: Key) -> list[tuple[Term, Term]]:
        """Non-overlapping occurrences of the pair ``key`` in the row, lowest shift first."""
        first, second, shift, sign = key
        used: set[Term] = set()
        found = []
        candidates = self.by_node.get(first, ())
        for a in sorted(candidates) if len(candidates) > 1 else candidates:
            b = Term(second, a.shift + shift, a.sign * sign)
            if b in self.terms and a not in used and b not in used:
                used |= {a, b}
                found.append((a, b))
        return found


class _Nodes:
    """What the search knows of each node: its depth and its value range (for a pair's adder width)."""

    def __init__(self, inputs: int, lo: int, hi: int) -> None:
        self.depth = [0] * inputs
        self.range = [(lo, hi)] * inputs

    def pair_depth(self, key: Key) -> int:
        return 1 + max(self.depth[key[0]], self.depth[key[1]])

    def pair_range(self, key: Key) -> tuple[int, int]:
        """The pair's range by interval arithmetic (wider than exact when both operands read one input)."""
        (lo_a, hi_a), (lo_b, hi_b) = self.range[key[0]], self.range[key[1]]
        ends = (key[3] * (lo_b << key[2]), key[3] * (hi_b << key[2]))
        return lo_a + min(ends), hi_a + max(ends)

    def adder_bits(self, key: Key) -> int:
        """The bits of the pair's adder that cost a LUT: its width above the shifted operand's zeros."""
        return max(signed_width(*self.pair_range(key)) - key[2], 1)

    def append(self, key: Key) -> None:
        self.depth.append(self.pair_depth(key))
        self.range.append(self.pair_range(key))


class _PairCounts:
    """An upper bound on how often each normalised pair occurs, the rows it may occur in, and a heap.

    A pair's priority is its count times its adder's bits (da4ml's weighted most-common rule): each
    occurrence after the first saves an adder that wide. New pairs raise the bounds; terms taken
    out of a row do not lower them (that would touch every pair of the term). Instead the search
    counts the top pair exactly before it takes it, and puts it back with its exact count when that
    is lower: the first pair whose exact count equals its bound is the best.
    """

    def __init__(self, rows: list[_Row], nodes: _Nodes, max_depth: int) -> None:
        self.nodes, self.max_depth = nodes, max_depth
        self.count: dict[Key, int] = {}
        self.rows: dict[Key, set[int]] = {}
        self.bits: dict[Key, int] = {}  # each pair's adder bits, computed once
        self.raised: set[Key] = set()
        for r, row in enumerate(rows):
            terms = sorted(row.terms, key=lambda t: (t.shift, t.node))
            for k, a in enumerate(terms):
                for b in terms[k + 1:]:
                    key = (a.node, b.node, b.shift - a.shift, a.sign * b.sign)
                    self.count[key] = self.count.get(key, 0) + 1
                    self.rows.setdefault(key, set()).add(r)
        self.heap = [self._entry(key, count) for key, count in self.count.items() if count >= 2]
        heapq.heapify(self.heap)

    def _entry(self, key: Key, count: int) -> tuple[int, int, int, int, Key]:
        bits = self.bits.get(key)
        if bits is None:
            bits = self.bits[key] = self.nodes.adder_bits(key)
        return -count * bits, self.nodes.pair_depth(key), key[2], -count, key

    def add(self, key: Key, row: int) -> None:
        """One more occurrence of ``key`` in ``row``; the heap learns of it at the next ``flush``."""
        depth = self.nodes.depth
        if 1 + max(depth[key[0]], depth[key[1]]) > self.max_depth:
            return
        self.count[key] = self.count.get(key, 0) + 1
        self.rows.setdefault(key, set()).add(row)
        self.raised.add(key)

    def flush(self) -> None:
        """Push the pairs whose counts rose since the last flush (once each, however often they rose)."""
        for key in sorted(self.raised):
            if self.count[key] >= 2:
                heapq.heappush(self.heap, self._entry(key, self.count[key]))
        self.raised.clear()

    def settle(self, key: Key, count: int) -> None:
        """Lower ``key``'s bound to its exact ``count``."""
        self.count[key] = count
        if count >= 2:
            heapq.heappush(self.heap, self._entry(key, count))

    def top(self) -> tuple[Key, int] | None:
        """The pair with the highest priority (a count of at least 2) and its count, skipping stale entries."""
        while self.heap:
            *_, negative, key = heapq.heappop(self.heap)
            if self.count.get(key) == -negative:
                return key, -negative
        return None


def share_subexpressions(matrix: Sequence[Sequence[int]], max_depth: int, lo: int = -128,
                         hi: int = 127) -> AdderGraph:
    """The adder graph of ``matrix @ x`` (rows of integer constants) with pairs shared across rows.

    ``max_depth`` bounds each shared node's adders above the inputs; ``lo``, ``hi``: every input's
    code range (default: 8-bit signed; it weighs the pairs by their adders' widths).

    The solve is remembered by value (the graph is immutable): the emitter and the estimate of one
    design, and a search's candidates that share a layer's weights and input format, solve it once.
    """
    return _solved(tuple(tuple(int(c) for c in row) for row in matrix), max_depth, lo, hi)


@functools.lru_cache(maxsize=256)
def _solved(matrix: tuple[tuple[int, ...], ...], max_depth: int, lo: int, hi: int) -> AdderGraph:
    inputs = len(matrix[0]) if matrix else 0
    rows = [_Row({Term(i, shift, sign) for i, c in enumerate(row) for shift, sign in csd_digits(int(c))})
            for row in matrix]
    nodes = _Nodes(inputs, lo, hi)
    counts = _PairCounts(rows, nodes, max_depth)
    shared: list[SharedNode] = []
    while (top := counts.top()) is not None:
        key, bound = top
        found = {r: pairs for r in sorted(counts.rows[key]) if (pairs := rows[r].occurrences(key))}
        exact = sum(len(pairs) for pairs in found.values())
        counts.rows[key] = set(found)
        if exact < bound:  # some terms went into shared nodes, or the pairs overlap (x, x << 2, x << 4)
            counts.settle(key, exact)
            continue
        counts.settle(key, 0)  # every occurrence is replaced below
        node = inputs + len(shared)
        shared.append(SharedNode(*key))
        nodes.append(key)
        for r, pairs in found.items():
            row = rows[r]
            for a, b in pairs:
                row.remove(a)
                row.remove(b)
                new = Term(node, a.shift, a.sign)  # a is the pair's first term: key[0] at the lower shift
                for other in row.terms:
                    counts.add(_pair(new, other), r)
                row.add(new)
        counts.flush()
    return AdderGraph(inputs, tuple(shared), tuple(tuple(sorted(row.terms)) for row in rows))
