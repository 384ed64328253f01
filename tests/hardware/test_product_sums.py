"""The estimate's graphs of additions, one per products style, against the Verilog the emitter writes."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chop.errors import HardwareError
from chop.hardware.arith_cells import SumGraph
from chop.hardware.fixed import FixedFormat
from chop.hardware.product_sums import PRODUCT_SUMS, product_graph
from chop.hardware.rtl.products import PRODUCT_STYLES, InputWires, product_rows

MATRICES = st.integers(1, 6).flatmap(lambda n: st.lists(st.lists(st.integers(-40, 40), min_size=n, max_size=n),
                                                        min_size=1, max_size=6))
FORMATS = st.builds(FixedFormat, st.integers(2, 8), st.just(0), st.booleans())


def emitted_nodes(rows: list[list[int]], fmt: FixedFormat, style: str) -> list[tuple[int, str]]:
    """``(width, "add" | "neg")`` of every addition and negation the emitter writes, in its order."""
    inputs = InputWires([f"x{i}" for i in range(len(rows[0]))], fmt.width + (0 if fmt.signed else 1), fmt.lo, fmt.hi)
    lines, _ = product_rows([list(enumerate(row)) for row in rows], inputs, "row", style,
                            [f"row {j}" for j in range(len(rows))])
    nodes = []
    for line in lines:
        match = re.fullmatch(r"\s*wire signed \[(\d+):0\] \w+ = (.*);", line)
        if match is None:
            continue
        width, expression = int(match.group(1)) + 1, match.group(2)
        if " + " in expression or " - " in expression:
            nodes.append((width, "add"))
        elif expression.startswith("-("):
            nodes.append((width, "neg"))
    return nodes


def test_every_style_of_adders_has_a_model_but_multiply() -> None:
    assert set(PRODUCT_SUMS) == set(PRODUCT_STYLES) - {"multiply"}
    with pytest.raises(HardwareError, match="no model of products style 'multiply'; use one of: shared, csd"):
        product_graph([[(0, 3)]], [0], FixedFormat(4, 0, True), 0, 8, "multiply")


@settings(max_examples=80)
@given(MATRICES, FORMATS, st.sampled_from(sorted(PRODUCT_SUMS)))
def test_the_graph_has_the_emitters_additions(rows: list[list[int]], fmt: FixedFormat, style: str) -> None:
    graph = SumGraph(fmt.width + (0 if fmt.signed else 1), fmt.signed)
    PRODUCT_SUMS[style](graph, [list(enumerate(row)) for row in rows], fmt.lo, fmt.hi)
    assert [(node.width, "add" if len(node.terms) == 2 else "neg") for node in graph.sums] == \
        emitted_nodes(rows, fmt, style)
    # adders are written with concatenations, a negated root with a cast
    assert all(node.concatenated == (len(node.terms) == 2) for node in graph.sums)


def _value(graph: SumGraph, source: tuple[str, int], x: list[int]) -> int:
    if source[0] == "x":
        return x[source[1]]
    node = graph.sums[source[1]]
    return node.constant + sum((-1 if t.negative else 1) * (_value(graph, t.source, x) << t.shift) for t in node.terms)


@settings(max_examples=80)
@given(MATRICES, st.data(), st.sampled_from(sorted(PRODUCT_SUMS)), st.integers(0, 3))
def test_the_graph_computes_the_layer(rows: list[list[int]], data: st.DataObject, style: str, shift: int) -> None:
    """Each nonzero row's output is its sum ``W[j] @ x``, or ``(W[j] @ x << shift) + b[j]`` where the
    bias is not zero or the row's tree is negative (the offset adder subtracts it; the shift alone is
    wiring, outside the graph); every node fits its width."""
    fmt = FixedFormat(5, 0, True)
    x = data.draw(st.lists(st.integers(fmt.lo, fmt.hi), min_size=len(rows[0]), max_size=len(rows[0])))
    bias = data.draw(st.lists(st.integers(-50, 50), min_size=len(rows), max_size=len(rows)))
    graph = product_graph([list(enumerate(row)) for row in rows], bias, fmt, shift, 24, style)
    dots = [(sum(c * v for c, v in zip(row, x)), b) for row, b in zip(rows, bias) if any(row)]
    offset_adders = [t.source[0] == "sum" and len(graph.sums[t.source[1]].terms) == 1 for t in graph.outputs]
    assert [_value(graph, t.source, x) << t.shift for t in graph.outputs] == \
        [(dot << shift) + b if adder else dot for (dot, b), adder in zip(dots, offset_adders)]
    # a row without a bias has an offset adder only when its tree is negative: then it subtracts
    assert all(graph.sums[t.source[1]].terms[0].negative for (_, b), t, adder in zip(dots, graph.outputs, offset_adders)
               if adder and not b)
    for k, node in enumerate(graph.sums):
        assert -(1 << (node.width - 1)) <= _value(graph, ("sum", k), x) < 1 << (node.width - 1)
