"""The shared adder graph in integers: every row equals ``W @ x`` for every input code, and sharing saves adders."""

from __future__ import annotations

import itertools

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from chop.hardware.rtl.csd import csd_digits
from chop.hardware.rtl.subexpressions import AdderGraph, SharedNode, Term, share_subexpressions


def csd_adders(matrix: list[list[int]]) -> int:
    """Adders of one tree per row with nothing shared: one fewer than the row's digits."""
    return sum(max(sum(len(csd_digits(c)) for c in row) - 1, 0) for row in matrix)


def matrices(max_rows: int = 5, max_cols: int = 3, magnitude: int = 64) -> st.SearchStrategy[list[list[int]]]:
    """Small integer matrices, zeros, powers of two and repeated rows included."""
    return st.integers(1, max_cols).flatmap(lambda cols: st.lists(
        st.lists(st.one_of(st.integers(-magnitude, magnitude), st.sampled_from([0, 1, -1, 2, -4, 16])),
                 min_size=cols, max_size=cols),
        min_size=1, max_size=max_rows))


@settings(max_examples=300)
@given(matrix=matrices(), depth=st.integers(1, 4))
def test_every_row_is_the_matrix_product_for_every_input_code(matrix: list[list[int]], depth: int) -> None:
    graph = share_subexpressions(matrix, depth)
    codes = range(-4, 4)  # every 3-bit code on every input: 8^cols vectors
    for x in itertools.product(codes, repeat=len(matrix[0])):
        assert graph.evaluate(list(x)) == [sum(c * v for c, v in zip(row, x)) for row in matrix]


@settings(max_examples=300)
@given(matrix=matrices(max_rows=8, max_cols=6, magnitude=255), depth=st.integers(1, 4))
def test_sharing_never_adds_adders_and_respects_the_depth_bound(matrix: list[list[int]], depth: int) -> None:
    graph = share_subexpressions(matrix, depth)
    assert graph.adders <= csd_adders(matrix)
    assert max(graph.depths()) <= depth
    # each node's coefficients are what it computes: evaluating on a unit vector gives the row's column
    coefficients = graph.coefficients()
    for i in range(graph.inputs):
        unit = [int(k == i) for k in range(graph.inputs)]
        values = list(unit)
        for node in graph.shared:
            values.append(values[node.first] + node.sign * (values[node.second] << node.shift))
        assert [c.get(i, 0) for c in coefficients] == values
    # every shared node is read: by a row or by a later shared node
    read = {t.node for row in graph.rows for t in row} | {n for s in graph.shared for n in (s.first, s.second)}
    assert all(graph.inputs + k in read for k in range(len(graph.shared)))


@given(matrix=matrices(max_rows=6, max_cols=4, magnitude=127))
def test_the_search_is_deterministic(matrix: list[list[int]]) -> None:
    assert share_subexpressions(matrix, 3) == share_subexpressions([list(row) for row in matrix], 3)


def test_two_rows_with_one_sum_share_it() -> None:
    # 3 x0 + 5 x1 in both rows (once shifted, once negated): digits -x0 + 4x0 + x1 + 4x1; the pairs
    # (x0, x1) at shifts 0 and 2 occur in both rows, signs as in 3 = 4 - 1
    graph = share_subexpressions([[3, 5], [-6, -10]], 3)
    assert graph.adders < csd_adders([[3, 5], [-6, -10]]) == 6
    assert graph.evaluate([7, -3]) == [6, -12]


def test_zero_rows_zero_columns_and_single_digits() -> None:
    graph = share_subexpressions([[0, 0, 0], [4, 0, -1], [0, 0, 0], [8, 0, -2]], 3)
    assert graph.rows[0] == graph.rows[2] == ()
    # 4 x0 - x2 and its double share one node: x2 - (x0 << 2), negated
    assert graph.shared == (SharedNode(first=2, second=0, shift=2, sign=-1),)
    assert graph.rows[1] == (Term(3, 0, -1),) and graph.rows[3] == (Term(3, 1, -1),)
    assert graph.adders == 1
    assert share_subexpressions([[0, 0]], 3) == AdderGraph(2, (), ((),))


def test_overlapping_pairs_in_one_row_are_not_shared() -> None:
    # 21 x0 = x0 + 4 x0 + 16 x0: the pair (x0, x0 << 2) counts twice but fits once
    graph = share_subexpressions([[21]], 3)
    assert graph.shared == () and graph.adders == 2


def test_a_16_by_16_matrix_of_4_bit_codes_needs_two_fifths_fewer_adders() -> None:
    weight = torch.randint(-8, 8, (16, 16), generator=torch.Generator().manual_seed(0)).tolist()
    graph = share_subexpressions(weight, 3, -128, 127)
    assert (csd_adders(weight), graph.adders, len(graph.shared)) == (355, 212, 56)
    # weighing pairs by their adders' widths trades a few adders for narrower ones: by count alone, 208
    assert max(graph.depths()) <= 3
