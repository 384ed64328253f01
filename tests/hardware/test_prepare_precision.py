"""Precision propagation against brute force: every input code of a tiny layer enumerated."""

from __future__ import annotations

import itertools

import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from prepare_helpers import fixed_config, quantised
from torch import nn

from chop.hardware.fixed import FixedFormat
from chop.hardware.ops import FixedLinear
from chop.hardware.prepare import accumulator_format, affine_bounds, linear_bounds, prepare
from chop.hardware.prepare.constants import MAX_DERIVED_FRAC, fitting_format
from chop.hardware.prepare.precision import add_bounds, needed_width

small_formats = st.builds(FixedFormat, width=st.integers(1, 3), frac=st.integers(-2, 4), signed=st.booleans())
codes = st.integers(-8, 8)


def _all_inputs(fmt: FixedFormat, count: int) -> torch.Tensor:
    return torch.tensor(list(itertools.product(range(fmt.lo, fmt.hi + 1), repeat=count)), dtype=torch.int64)


def _is_narrowest(fmt: FixedFormat, lo: int, hi: int) -> bool:
    """``fmt`` holds [lo, hi], and no format one bit narrower (either sign) does."""
    narrower = [FixedFormat(fmt.width - 1, fmt.frac, signed) for signed in (True, False)] if fmt.width > 1 else []
    return fmt.lo <= lo and hi <= fmt.hi and not any(n.lo <= lo and hi <= n.hi for n in narrower)


@settings(max_examples=60)
@given(fmt=small_formats, weights=st.lists(st.lists(codes, min_size=3, max_size=3), min_size=1, max_size=3),
       bias=st.lists(st.integers(-40, 40), min_size=3, max_size=3), shift=st.integers(0, 3))
def test_linear_accumulator_is_the_narrowest_holding_every_sum(fmt, weights, bias, shift) -> None:
    weight = torch.tensor(weights, dtype=torch.int64)
    offsets = torch.tensor(bias[: len(weights)], dtype=torch.int64)
    sums = (_all_inputs(fmt, 3) @ weight.T) * 2**shift + offsets  # every value the layer can compute
    lo, hi = linear_bounds(weight, offsets, fmt, shift)
    assert (lo, hi) == (int(sums.min()), int(sums.max()))  # the bounds are attained, not just safe
    acc = accumulator_format("node 'fc' (linear)", lo, hi, 5)
    assert acc.frac == 5 and _is_narrowest(acc, lo, hi)


@settings(max_examples=40)
@given(fmt=small_formats, scale=st.lists(codes, min_size=1, max_size=4), data=st.data())
def test_affine_bounds_against_every_input(fmt, scale, data) -> None:
    scales = torch.tensor(scale, dtype=torch.int64)
    shifts = torch.tensor(data.draw(st.lists(st.integers(-20, 20), min_size=len(scale), max_size=len(scale))))
    inputs = torch.arange(fmt.lo, fmt.hi + 1).unsqueeze(1)
    values = inputs * scales * 2 + shifts
    assert affine_bounds(scales, shifts, fmt, 1) == (int(values.min()), int(values.max()))


@given(a=small_formats, b=small_formats)
def test_add_bounds_against_every_pair(a, b) -> None:
    frac = max(a.frac, b.frac)
    sums = [(x << (frac - a.frac)) + (y << (frac - b.frac)) for x in range(a.lo, a.hi + 1) for y in range(b.lo, b.hi + 1)]
    assert add_bounds(a, b, frac) == (min(sums), max(sums))


@given(lo=st.integers(-(2**40), 2**40), span=st.integers(0, 2**40))
def test_needed_width_is_what_holding_finds(lo, span) -> None:
    hi = lo + span
    assert needed_width(lo, hi) == FixedFormat.holding(lo, hi, 0).width


def test_prepared_layer_gets_the_brute_force_accumulator() -> None:
    """Through the whole preparation: a 3-input layer with 3-bit inputs, its accumulator from all 512 inputs."""
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(3, 2)).eval()
    config = fixed_config(data=(3, 1), weight=(4, 2), bias=(6, 3))
    twin = prepare(quantised(model, config, torch.randn(2, 3)).model).module.get_submodule("_0")
    assert isinstance(twin, FixedLinear)
    sums = (_all_inputs(twin.in_format, 3) @ twin.weight.T) * 2**twin.product_shift + twin.bias
    assert twin.acc_format.frac == 3  # max(in 1 + weight 2, bias 3)
    assert _is_narrowest(twin.acc_format, int(sums.min()), int(sums.max()))


@given(values=st.lists(st.floats(-100, 100, allow_nan=False), min_size=1, max_size=8), width=st.integers(2, 12),
       signed=st.booleans())
def test_fitting_format_has_the_most_fraction_bits_without_saturation(values, width, signed) -> None:
    tensor = torch.tensor(values, dtype=torch.float64)
    fmt = fitting_format(tensor, width, signed, fallback_frac=3)
    assert fmt.width == width and fmt.signed == (signed or any(v < 0 for v in values))

    def fits(frac: int) -> bool:
        scaled = torch.round(tensor * 2.0**frac)
        probe = FixedFormat(width, frac, fmt.signed)
        return bool(((scaled >= probe.lo) & (scaled <= probe.hi)).all())

    if all(v == 0 for v in values):
        assert fmt.frac == 3
    else:
        assert fits(fmt.frac) and (fmt.frac == MAX_DERIVED_FRAC or not fits(fmt.frac + 1))


def test_fitting_format_caps_the_fraction_bits_of_tiny_constants() -> None:
    assert fitting_format(torch.tensor([1e-300, -2e-300], dtype=torch.float64), 8, False, 0) == (
        FixedFormat(8, MAX_DERIVED_FRAC, True))
    assert fitting_format(torch.tensor([1e300], dtype=torch.float64), 8, True, 0).frac == -990
