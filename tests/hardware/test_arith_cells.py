"""What Yosys builds of a layer's sums: the replay of ``opt_merge``, ``alumacc`` and ``maccmap``,
checked by hand on tiny graphs, by value on random ones, and against Yosys's own cells."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from rtl_helpers import prepared, random_linear
from torch import nn

from chop.hardware.arith_cells import (ArithCells, Sum, SumGraph, Term, carry_chain, compress, merge_sums,
                                       share_identical)
from chop.hardware.product_sums import csd_rows, product_graph
from chop.hardware.fixed import FixedFormat
from chop.hardware.ops import FixedInput, FixedLinear
from chop.hardware.rtl import emit_rtl
from chop.hardware.rtl.verilog import signed_width
from chop.hardware.tools import find_tool

S4 = FixedFormat(4, 0, True)  # codes -8..7
ROWS = st.lists(st.lists(st.integers(-40, 40), min_size=1, max_size=6), min_size=1, max_size=5)


def graph_of(rows: list[list[int]], fmt: FixedFormat = S4) -> SumGraph:
    """The CSD rows' adders, each written with a signed cast (``concatenated=False``)."""
    graph = SumGraph(fmt.width + (0 if fmt.signed else 1), fmt.signed)
    for value in csd_rows(graph, [list(enumerate(row)) for row in rows], fmt.lo, fmt.hi):
        if value is not None:
            graph.outputs.append(value)
    graph.sums = [Sum(node.terms, node.width, node.constant) for node in graph.sums]
    return graph


def _evaluate(graph: SumGraph, source: tuple[str, int], x: list[int], cache: dict) -> int:
    if source[0] == "x":
        return x[source[1]]
    if source not in cache:
        node = graph.sums[source[1]]
        cache[source] = node.constant + sum(
            (-1 if t.negative else 1) * (_evaluate(graph, t.source, x, cache) << t.shift) for t in node.terms)
    return cache[source]


@settings(max_examples=80)
@given(ROWS, st.lists(st.integers(-8, 7), min_size=6, max_size=6),
       st.lists(st.integers(-300, 300), min_size=5, max_size=5), st.sampled_from(["shared", "csd"]))
def test_shared_and_merged_cells_compute_the_same_sums(rows: list[list[int]], x: list[int], bias: list[int],
                                                       style: str) -> None:
    lo, hi = S4.lo, S4.hi
    acc_width = max(signed_width(sum(min(c * lo, c * hi) for c in row) + b, sum(max(c * lo, c * hi) for c in row) + b)
                    for row, b in zip(rows, bias))
    graph = product_graph([list(enumerate(row)) for row in rows], bias[:len(rows)], S4, 0, acc_width, style)
    expected = [sum(c * x[i] for i, c in enumerate(row)) + b for row, b in zip(rows, bias) if any(row)]
    outputs = [_evaluate(graph, t.source, x, {}) << t.shift for t in graph.outputs]
    assert outputs == expected
    shared = share_identical(graph)
    assert [_evaluate(shared, t.source, x, {}) << t.shift for t in shared.outputs] == expected
    # every cell alumacc leaves computes its node's value from its (folded) operands
    values: dict = {}
    for cell in merge_sums(shared):
        total = cell.constant + sum((-1 if p.negative else 1) * (_evaluate(shared, p.source, x, values) << p.shift)
                                    for p in cell.ports)
        assert total == _evaluate(shared, ("sum", cell.node), x, values)


def test_identical_nodes_are_one_cell() -> None:
    # 3*x0 = 4x0 - x0 in both rows, and 6*x0 is the same wire shifted: one node for all three
    graph = graph_of([[3], [3], [6]])
    assert len(graph.sums) == 3
    shared = share_identical(graph)
    assert len(shared.sums) == 1
    assert [(t.source, t.shift) for t in shared.outputs] == [(("sum", 0), 0), (("sum", 0), 0), (("sum", 0), 1)]


def test_unshifted_sole_readers_fold_into_one_macc() -> None:
    # x0 + x1 + x2 + x3: two 5-bit sums into a 6-bit one; 4-bit operands cannot wrap 5 bits, so both fold
    graph = graph_of([[1, 1, 1, 1]])
    (cell,) = merge_sums(share_identical(graph))
    assert sorted(p.source for p in cell.ports) == [("x", 0), ("x", 1), ("x", 2), ("x", 3)] and cell.is_macc
    assert (cell.node, cell.constant, cell.output.bits, cell.output.signed) == (2, 0, 6, True)


def test_a_shifted_or_shared_operand_stays_its_own_cell() -> None:
    # x0 + x1 + 2*(x2 + x3): the shifted pair is read with zeros below, so alumacc keeps it apart
    cells = merge_sums(share_identical(graph_of([[1, 1, 2, 2]])))
    assert sorted(len(cell.ports) for cell in cells) == [2, 3]
    # 3*x0 read by two rows: each row keeps its own addition of it
    cells = merge_sums(share_identical(graph_of([[3, 1], [3, -1]])))
    assert sorted(len(cell.ports) for cell in cells) == [2, 2, 2]


def test_a_compressor_tree_by_hand() -> None:
    # three 2-bit words: two full adders (bits 0 and 1), then a carry chain from bit 1 (where the
    # sum and the carry both have a bit) to the top: one adding bit, two carry bits, one CARRY4
    bits = [{("a", 0), ("b", 0), ("c", 0)}, {("a", 1), ("b", 1), ("c", 1)}, set(), set()]
    assert compress(bits) == ArithCells(full_adder_bits=2, half_adder_bits=0, adder_bits=1, carry_bits=2, carry4=1)


def test_a_carry_chain_starts_where_both_operands_have_a_bit() -> None:
    # x << 2 plus y: the low two bits are y's, then four adding bits and a fifth with one operand
    assert carry_chain([0, 0, 2, 2, 2, 2, 0], [2, 2, 2, 2, 2, 2, 2]) == ArithCells(adder_bits=4, carry_bits=1, carry4=2)
    assert carry_chain([0, 0], [2, 2]) == ArithCells()


def test_hand_made_sign_extension_keeps_each_adder_a_carry_chain() -> None:
    # the same x0 + x1 + x2 + x3 written with concatenations: the reader's operand holds copies of
    # the sum's top bit, not the sum itself, so nothing folds (except a sum read bare, as wide as its reader)
    graph = graph_of([[1, 1, 1, 1]])
    graph.sums = [Sum(node.terms, node.width, node.constant, concatenated=True) for node in graph.sums]
    assert [len(cell.ports) for cell in merge_sums(share_identical(graph))] == [2, 2, 2]


def test_a_negation_folds_its_sum_with_the_signs_turned() -> None:
    # -(x0 + x1): the negation reads the sum whole, so one cell subtracts both inputs
    graph = SumGraph(4, True)
    inner = graph.add(Sum((Term(("x", 0), 0, False), Term(("x", 1), 0, False)), 5))
    graph.outputs.append(Term(graph.add(Sum((Term(inner, 0, True),), 5)), 0, False))
    (cell,) = merge_sums(graph)
    assert [(p.source, p.negative) for p in cell.ports] == [(("x", 0), True), (("x", 1), True)] and cell.node == 1


def _yosys_arith_cells(layer: FixedLinear, fmt: FixedFormat, style: str, work: Path) -> tuple[int, int]:
    """``$macc`` and ``$alu`` cells of the layer module after Yosys's coarse steps (``alumacc`` included)."""
    design = emit_rtl(prepared(nn.Sequential(FixedInput(fmt), layer)), work / "rtl", pipeline="layer", products=style)
    (module,) = [entry.module for entry in design.layers]
    reads = " ".join(f"read_verilog -sv {path};" for path in design.files if path.stem != design.top_name)
    script = (f"{reads} hierarchy -top {module}; synth_xilinx -flatten -noiopad -noclkbuf -nodsp -top {module} "
              f"-run begin:map_memory; tee -q -o {work / 'stat.json'} stat -json")
    subprocess.run([str(find_tool("yosys")), "-q", "-p", script], check=True, capture_output=True)
    text = (work / "stat.json").read_text()
    cells = json.loads(text[text.index("{"):])["modules"][f"\\{module}"]["num_cells_by_type"]
    return cells.get("$macc", 0), cells.get("$alu", 0)


@pytest.mark.parametrize(("seed", "fmt", "style"), [(0, FixedFormat(6, 0, True), "shared"),
                                                    (1, FixedFormat(5, 0, False), "shared"),
                                                    (2, FixedFormat(3, 0, True), "csd"),
                                                    (3, FixedFormat(5, 0, False), "csd")])
def test_the_cells_are_yosys_cells(seed: int, fmt: FixedFormat, style: str, tmp_path: Path) -> None:
    """After ``alumacc`` Yosys holds exactly the ``$macc`` and ``$alu`` cells the replay predicts (the
    output keeps the accumulator's fraction bits, so no requantiser adds an incrementer)."""
    gen = torch.Generator().manual_seed(seed)
    layer = random_linear(gen, 7, 5, fmt, FixedFormat(6, 0, True), FixedFormat(8, 0, True))
    rows = [list(enumerate(row)) for row in layer.weight.tolist()]
    graph = product_graph(rows, layer.bias.tolist(), fmt, layer.product_shift, layer.acc_format.width, style)
    cells = merge_sums(share_identical(graph))
    maccs = sum(cell.is_macc for cell in cells)
    assert _yosys_arith_cells(layer, fmt, style, tmp_path) == (maccs, len(cells) - maccs)
