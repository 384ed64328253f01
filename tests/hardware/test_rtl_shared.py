"""The ``"shared"`` products style in Verilator: sums shared across rows compute the integer semantics bit for bit.

jsc-toy on 1,000 rows of the test split, random MLPs (random widths, fraction bits, signedness),
and one layer built to hold the awkward cases: unsigned inputs, an all-zero row and an all-zero
column, single-digit constants (powers of two), repeated and negated rows. Every design is linted.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from prepare_helpers import INTEGER_8_4, calibrated, jsc_test_rows, quantised
from rtl_helpers import chain, exact_accumulator, lint, mlps, prepared, random_codes, runtime_cache
from torch import nn

from chop.hardware.fixed import FixedFormat
from chop.hardware.ops import FixedInput, FixedLinear
from chop.hardware.reference import integer_reference
from chop.hardware.rtl import emit_rtl
from chop.hardware.simulate import simulate
from chop.passes.graph.transforms import prepare_hardware_transform_pass

__all__ = ["runtime_cache"]  # the fixture, imported for this module's tests


def awkward_layer() -> list:
    """Unsigned 6-bit inputs; rows: zero, powers of two, a row and its negation and double, mixed digits,
    and rows whose terms are all subtracted, with and without a bias."""
    weight = torch.tensor([
        [0, 0, 0, 0, 0],
        [1, 0, -4, 0, 16],
        [7, 0, 5, -3, 1],
        [-7, 0, -5, 3, -1],
        [14, 0, 10, -6, 2],
        [-32, 0, 31, 21, -11],
        [-1, 0, 0, -2, 0],
        [0, 0, -4, 0, -8],
    ])  # column 1 is all zero
    bias = torch.tensor([3, -5, 0, 7, -100, 1, 0, 9])
    in_format = FixedFormat(6, 2, signed=False)
    weight_format = FixedFormat(7, 3)
    acc = exact_accumulator(weight, bias, in_format, 0, in_format.frac + weight_format.frac)
    return [FixedInput(in_format), FixedLinear(weight, bias, in_format, weight_format, acc, FixedFormat(9, 3))]


def test_awkward_rows_match_in_verilator(tmp_path: Path, runtime_cache: Path) -> None:
    modules = awkward_layer()
    codes = random_codes(torch.Generator().manual_seed(11), modules[0].out_format, 500, (5,))
    design = emit_rtl(prepared(nn.Sequential(*modules)), tmp_path / "rtl", products="shared")
    text = (tmp_path / "rtl" / "_1_linear.sv").read_text()
    assert re.search(r"wire signed \[\d+:0\] row_shared0 = ", text)  # the rows do share sums
    assert "wire signed [0:0] row0 = 1'b0;  // every constant of this row is zero" in text
    # rows 3, 6 and 7 hold minus their sums (-7 x0 - 5 x2 + 3 x3 - x4 is row 2's sum, negated): the
    # offset adder subtracts them, and no row is negated on a wire of its own
    assert "localparam logic [ROWS-1:0] SUBTRACT = 8'hc8;" in text and " = -(" not in text
    assert "// row6 holds minus this sum (every term subtracted): the offset adder subtracts it" in text
    assert lint(design) == ""
    result = simulate(design, codes, tmp_path / "sim", runtime_cache=runtime_cache)
    assert torch.equal(result.outputs, chain(modules[1:], codes))


def test_jsc_toy_matches_the_reference_on_1000_rows(tmp_path: Path, runtime_cache: Path) -> None:
    x, _ = jsc_test_rows(1000)
    prepared_graph, _ = prepare_hardware_transform_pass(quantised(calibrated("jsc-toy", seed=1), INTEGER_8_4, x[:2]))
    design = emit_rtl(prepared_graph.model, tmp_path / "rtl", products="shared")
    assert lint(design) == ""
    result = simulate(design, design.input_format.quantize(x), tmp_path / "sim", runtime_cache=runtime_cache)
    assert torch.equal(result.outputs, integer_reference(prepared_graph, x))


@settings(max_examples=4)  # each example is a Verilator build
@given(modules=mlps())
def test_random_mlps_match_in_verilator(modules: list, tmp_path_factory: pytest.TempPathFactory,
                                        runtime_cache: Path) -> None:
    work = Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp()))
    codes = random_codes(torch.Generator().manual_seed(12), modules[0].out_format, 100,
                         (modules[1].weight.shape[1],))
    design = emit_rtl(prepared(nn.Sequential(*modules)), work / "rtl", products="shared")
    assert lint(design) == ""
    result = simulate(design, codes, work / "sim", runtime_cache=runtime_cache)
    assert torch.equal(result.outputs, chain(modules[1:], codes))
