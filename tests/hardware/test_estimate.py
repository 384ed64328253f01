"""The resource estimate: its counts on tiny designs worked out by hand, its trends, and its calibration error.

No Yosys runs here: the calibration data (``benchmarks/data/hardware_calibration.json``, made by
``benchmarks/hardware_calibration.py``) holds Yosys's counts; the error of the committed
coefficients on its designs (the unseen ones, and in-sample the ones they were fitted on) is
recomputed from it and compared with what ``docs/hardware.md`` states.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from rtl_helpers import prepared
from torch import nn

from chop.errors import HardwareError
from chop.hardware.estimate import (COEFFICIENTS, FEATURES, LayerFeatures, constant_bits, estimate_design, held_bits,
                                    genuine_width, row_test_bits, unsaturated_row_bits)
from chop.hardware.fixed import FixedFormat
from chop.hardware.ops import FixedInput, FixedLinear, FixedReLU
from chop.hardware.prepare.conv import conv1d_geometry, conv1d_matrix
from chop.hardware.rtl.products import PRODUCT_STYLES

ROOT = Path(__file__).parents[2]
DATA = ROOT / "benchmarks" / "data" / "hardware_calibration.json"
DOCS = ROOT / "docs" / "hardware.md"

S4 = FixedFormat(4, 0, True)  # codes -8..7


def linear(weight: list[list[int]], bias: list[int], in_format: FixedFormat = S4,
           out_format: FixedFormat = S4, acc_width: int = 12) -> FixedLinear:
    return FixedLinear(torch.tensor(weight), torch.tensor(bias), in_format, FixedFormat(4, 0, True),
                       FixedFormat(acc_width, in_format.frac, True), out_format)


def graph(*modules: nn.Module, in_format: FixedFormat = S4) -> torch.fx.GraphModule:
    return prepared(nn.Sequential(FixedInput(in_format), *modules))


def test_a_tiny_linear_layer_counts_what_the_emitter_builds() -> None:
    layer = linear([[3, 0], [1, -1]], [0, 0], acc_width=6)
    estimate = estimate_design(graph(layer), pipeline="layer")
    (only,) = estimate.layers
    features = only.features
    # 3*x0 = (x0 << 2) - x0 on 6 bits: bits 0-1 are x0's own, bits 2-5 add (x0's sign extended);
    # x0 - x1 on 5 bits: every bit adds. Two carry chains, no compressor (no sum of three), and
    # both biases are zero: no addition of them
    assert (features.adder_bits, features.carry_bits) == (4 + 5, 0)
    assert (features.full_adder_bits, features.half_adder_bits) == (0, 0)
    assert only.carry4 == 1 + 2
    # accumulator 6 bits at frac 0 into fixed<4,0>: nothing to round; the saturation tests the bits above
    assert features.round_bits == 0
    # the register: 2 outputs of 4 bits (both signs reachable: no constant bit) and the valid bit
    assert (features.register_bits, only.ffs) == (9, 9)
    assert only.luts == round(sum(COEFFICIENTS[name] * getattr(features, name) for name in FEATURES))
    assert (estimate.luts, estimate.ffs, estimate.carry4) == (only.luts, only.ffs, only.carry4)


def test_registers_follow_the_pipeline_and_drop_constant_bits() -> None:
    layer = linear([[3, 0], [1, -1]], [0, 0], acc_width=6)
    relu = FixedReLU(S4, S4)  # signed output of a ReLU: the sign bit is always 0, Yosys drops its flip-flop
    design = graph(layer, relu)
    by_pipeline = {pipeline: [layer.ffs for layer in estimate_design(design, pipeline=pipeline).layers]
                   for pipeline in ("none", "layer", "split")}
    assert by_pipeline["none"] == [0, 0]
    assert by_pipeline["layer"] == [2 * 4 + 1, 2 * 3 + 1]
    # split: also the row sums (2 rows of the widest sum, 6 bits) and their valid bit
    assert by_pipeline["split"] == [2 * 4 + 1 + 2 * 6 + 1, 2 * 3 + 1]


def test_padded_low_bits_share_one_flip_flop_when_the_value_saturates_high() -> None:
    fmt = FixedFormat(8, 4, True)
    assert held_bits(fmt, -128, 127, 0) == 8
    assert held_bits(fmt, -128, 112, 4) == 4  # the low 4 bits are always zero
    assert held_bits(fmt, -128, 127, 4) == 5  # ... except at the saturated maximum 0111_1111: one shared bit


def test_constant_bits_of_a_code_range() -> None:
    fmt = FixedFormat(8, 0, True)
    assert constant_bits(fmt, 0, 127) == 1  # the sign bit
    assert constant_bits(fmt, 0, 5) == 5  # 0..5 needs 3 bits
    assert constant_bits(fmt, -3, 5) == 0  # both signs
    assert constant_bits(fmt, -128, -1) == 1
    assert constant_bits(fmt, 7, 7) == 8


def test_per_layer_figures_add_up_to_the_total() -> None:
    generator = torch.Generator().manual_seed(0)
    first = linear(torch.randint(-8, 8, (6, 5), generator=generator).tolist(), [3] * 6, acc_width=12)
    second = FixedReLU(S4, FixedFormat(3, 0, False))
    estimate = estimate_design(graph(first, second))
    assert [layer.kind for layer in estimate.layers] == ["fixed_linear", "fixed_relu"]
    assert estimate.luts == sum(layer.luts for layer in estimate.layers)
    assert estimate.ffs == sum(layer.ffs for layer in estimate.layers)
    payload = estimate.as_dict()
    assert payload["luts"] == estimate.luts and len(payload["layers"]) == 2


@pytest.mark.parametrize("size", [2, 5, 8])
def test_more_csd_digits_cost_more_luts(size: int) -> None:
    """Rows of one weight with 1, 2, 3 and 4 nonzero CSD digits (1, 3, 11, 43), same input format."""
    fmt = FixedFormat(8, 0, True)
    luts = []
    for weight in (1, 3, 11, 43):
        layer = FixedLinear(torch.full((2, size), weight), torch.zeros(2, dtype=torch.int64), fmt,
                            FixedFormat(8, 0, True), FixedFormat(20, 0, True), fmt)
        luts.append(estimate_design(graph(layer, in_format=fmt)).luts)
    assert luts == sorted(luts) and len(set(luts)) == len(luts)


@pytest.mark.parametrize("signed", [True, False])
def test_wider_inputs_cost_more_luts(signed: bool) -> None:
    generator = torch.Generator().manual_seed(1)
    weight = torch.randint(-8, 8, (8, 8), generator=generator)
    luts = []
    for width in (3, 6, 9, 12):
        fmt = FixedFormat(width, 0, signed)
        layer = FixedLinear(weight, torch.zeros(8, dtype=torch.int64), fmt, FixedFormat(4, 0, True),
                            FixedFormat(20, 0, True), FixedFormat(8, 0, True))
        luts.append(estimate_design(graph(layer, in_format=fmt)).luts)
    assert luts == sorted(luts) and len(set(luts)) == len(luts)


def _calibration() -> list[dict]:
    return json.loads(DATA.read_text())["designs"]


def _errors(role: str, what: str) -> list[float]:
    """|estimate - Yosys| / Yosys of each design's total LUTs (from the features and COEFFICIENTS) or FFs."""
    errors = []
    for entry in _calibration():
        if entry["role"] != role:
            continue
        features = [LayerFeatures(**layer["features"]) for layer in entry["layers"]]
        if what == "luts":
            predicted = round(sum(COEFFICIENTS[name] * getattr(f, name) for f in features for name in FEATURES))
        else:
            predicted = sum(f.register_bits for f in features)
        if entry["yosys"][what]:  # a design with no LUT at all (every weight rounds to zero) has no relative error
            errors.append(abs(predicted - entry["yosys"][what]) / entry["yosys"][what])
    return errors


def test_the_calibration_covers_enough_designs_from_one_yosys() -> None:
    entries = _calibration()
    roles = [entry["role"] for entry in entries]
    assert roles.count("fit") >= 30 and roles.count("held_out") >= 10 and len(_errors("fresh", "luts")) >= 10
    assert len(_errors("blind", "luts")) >= 10
    assert all(len(_errors(role, "luts")) >= 12 for role in ("blind2", "blind3", "blind4", "unseen"))
    # blind2 and the unseen set hold layers of few inputs and many rows, the estimate's worst kind
    for role in ("blind2", "unseen"):
        assert sum(e["description"].get("in", 99) <= 4 and e["description"].get("out", 0) >= 12
                   for e in entries if e["role"] == role) >= 4
    assert [e["role"] for e in entries].count("narrow") >= 8
    assert {entry["yosys_version"] for entry in entries} == {"Yosys 0.23 (git sha1 7ce5011c24b)"}
    assert all("-nodsp" in entry["command"].split() for entry in entries)
    # every design was emitted as main emits it: the default products style
    assert {entry["products"] for entry in entries} == {PRODUCT_STYLES[0]}
    zoo = {(entry["role"], entry["description"]["model"], "by_name" in entry["description"])
           for entry in entries if entry["description"]["kind"] == "zoo"}
    assert zoo == {("held_out", "jsc-tiny", False), ("held_out", "jsc-toy", False),
                   ("fresh", "jsc-three-linear", False), ("fresh", "jsc-toy", True),
                   ("blind", "jsc-tiny", False), ("blind", "jsc-three-linear", False),
                   ("blind2", "jsc-toy", False), ("blind3", "jsc-tiny", False), ("blind4", "jsc-toy", False),
                   ("unseen", "jsc-three-linear", False)}


@pytest.mark.parametrize(("role", "name"), [("unseen", "unseen"), ("fit", "fit"), ("narrow", "narrow"),
                                            ("held_out", "held-out"), ("fresh", "fresh"), ("blind", "blind"),
                                            ("blind2", "blind2"), ("blind3", "blind3"), ("blind4", "blind4")])
def test_the_documented_error_is_the_datas(role: str, name: str) -> None:
    """docs/hardware.md states the median and worst LUT and FF error of each set (the unseen one and,
    in-sample, each set the coefficients were fitted on); they are what the data gives."""
    text = DOCS.read_text()
    for what, label in (("luts", "LUTs"), ("ffs", "FFs")):
        errors = _errors(role, what)
        match = re.search(rf"{label} on the {name} designs: median ([\d.]+) %, worst ([\d.]+) %", text)
        assert match is not None, f"docs/hardware.md must state the {name} {label} error"
        assert float(match.group(1)) == pytest.approx(100 * float(np.median(errors)), abs=0.05)
        assert float(match.group(2)) == pytest.approx(100 * max(errors), abs=0.05)


def test_the_estimate_follows_the_products_style() -> None:
    """x0 + x1 + x2 and x1 + x2 + x3: CSD rows take two adders each, the shared style adds x1 + x2 once
    (three adders in all)."""
    fmt = FixedFormat(6, 0, True)
    layer = FixedLinear(torch.tensor([[1, 1, 1, 0], [0, 1, 1, 1]]), torch.zeros(2, dtype=torch.int64), fmt,
                        FixedFormat(2, 0, True), FixedFormat(16, 0, True), FixedFormat(16, 0, True))
    design = graph(layer, in_format=fmt)
    shared, csd = (estimate_design(design, products=style) for style in ("shared", "csd"))
    assert shared.as_dict()["products"] == "shared" and csd.as_dict()["products"] == "csd"
    # carry chains: CSD 7 + 8 bits per row; shared 7 (x1 + x2) + 8 + 8
    assert (shared.layers[0].features.adder_bits, csd.layers[0].features.adder_bits) == (7 + 8 + 8, 2 * (7 + 8))
    assert shared.luts < csd.luts and shared.ffs == csd.ffs
    with pytest.raises(HardwareError, match="no model of products style 'multiply'"):
        estimate_design(design, products="multiply")


def test_a_lowered_conv_counts_only_its_taps_and_its_reshapes_cost_nothing() -> None:
    # Conv1d(1 -> 1, kernel [1, 1]) on 3 positions: rows x0 + x1 and x1 + x2, the zeros of its matrix no term
    weight = conv1d_matrix(torch.tensor([[[1, 1]]]), conv1d_geometry(nn.Conv1d(1, 1, 2), 3, "c"))
    assert weight.tolist() == [[1, 1, 0], [0, 1, 1]]
    layer = linear(weight.tolist(), [0, 0], acc_width=5)
    design = graph(nn.Flatten(), layer, nn.Unflatten(1, (1, 2)))
    design.input_shape = (1, 3)
    (only,) = estimate_design(design, pipeline="layer").layers
    # two 5-bit carry-chain adders (two CARRY4 each), nothing else to add; 2 outputs of 4 bits and the valid bit
    assert (only.kind, only.features.adder_bits, only.features.full_adder_bits, only.carry4) == ("fixed_linear", 10, 0, 4)
    assert only.ffs == 2 * 4 + 1


def test_a_rows_saturation_test_reads_the_bits_that_are_not_copies() -> None:
    signed4, unsigned4 = FixedFormat(4, 0, True), FixedFormat(4, 0, False)
    # a 10-bit row sum, no offset: 10 bits of its own, and the test reads bits 3..9 (the output's
    # sign bit and up)
    assert genuine_width(10, 0, 0, 12) == 10
    assert row_test_bits(10, 0, signed4) == 7
    # an offset of 300 (10 bits) on the sum shifted by 2: one bit above the wider, 13 bits, so the
    # test reads bits 3..12; an unsigned output has no sign bit, so its test starts one bit higher
    assert genuine_width(10, 300, 2, 14) == 13
    assert (row_test_bits(13, 0, signed4), row_test_bits(13, 0, unsigned4)) == (10, 9)
    # never wider than the accumulator; a 4-bit sum fits the signed output: one sign bit is no test
    assert genuine_width(10, 300, 2, 12) == 12
    assert row_test_bits(4, 0, signed4) == 0


def test_a_row_without_a_test_keeps_a_flip_flop_per_signal_bit() -> None:
    # accumulator bits 0..5 are the row's (bit 5 its sign), bits 0-1 its offset's constants; the output
    # drops one fraction bit, so its bits read accumulator bits 1..8: signals 2, 3, 4 and the sign
    assert unsaturated_row_bits(6, 2, 1, FixedFormat(8, 0, True)) == 4
    # an unsigned output clamps a negative value to zero, so the sign and its copies read as zero
    assert unsaturated_row_bits(6, 2, 1, FixedFormat(8, 0, False)) == 3


def test_zero_rows_and_constant_low_bits_take_no_flip_flop() -> None:
    # 2*x0 + 4*x1 (7 bits, bit 0 always 0), a zero row, x0 + x1 (5 bits); all fit fixed<8,0>:
    # 5 signals and a sign, nothing, 4 signals and a sign, and the valid bit
    layer = linear([[2, 4], [0, 0], [1, 1]], [0, 0, 0], out_format=FixedFormat(8, 0, True), acc_width=8)
    (only,) = estimate_design(graph(layer), pipeline="layer").layers
    assert only.ffs == 6 + 0 + 5 + 1
