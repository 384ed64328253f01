"""integer_quantizer: the spec's examples, and exact agreement with a Fraction reference."""

from __future__ import annotations

from fractions import Fraction

import hypothesis.strategies as st
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from quantizer_references import fixed_point_samples, integer_reference

from chop.quantizers import integer_quantizer, make_quantizer
from chop.quantizers.integer import MAX_FIXED_WIDTH


def test_spec_examples_w8_f4() -> None:
    x = torch.tensor([0.30, 2.53125, 10.0, -10.0, 0.0625, -8.0, 7.9375])
    assert integer_quantizer(x, 8, 4).tolist() == [0.3125, 2.5, 7.9375, -8.0, 0.0625, -8.0, 7.9375]


def test_grid_step_and_range_w8_f4() -> None:
    values = torch.unique(integer_quantizer(torch.linspace(-20, 20, 100_001), 8, 4))
    assert values.numel() == 256
    assert values.min().item() == -8.0 and values.max().item() == 7.9375
    assert torch.all(torch.diff(values) == 0.0625)


def test_unsigned_range_is_zero_to_2w_minus_1() -> None:
    x = torch.tensor([-3.0, -0.01, 0.0, 0.30, 15.9375, 16.0, 100.0])
    assert integer_quantizer(x, 8, 4, is_signed=False).tolist() == [0.0, 0.0, 0.0, 0.3125, 15.9375, 15.9375, 15.9375]


def test_missing_frac_width_means_half_the_width() -> None:
    x = torch.tensor([0.30, 100.0, -100.0])
    assert torch.equal(integer_quantizer(x, 6), integer_quantizer(x, 6, 3))
    assert dict(make_quantizer("integer", {"width": 7}).params) == {"width": 7, "frac_width": 3}


def test_round_half_to_even() -> None:
    # 2.53125 * 16 = 40.5 -> 40 ; 2.59375 * 16 = 41.5 -> 42
    assert integer_quantizer(torch.tensor([2.53125, 2.59375, -2.53125]), 8, 4).tolist() == [2.5, 2.625, -2.5]


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[float], int, int, bool]:
    """Format drawn by hypothesis; 64 float32 values per example from ``fixed_point_samples``."""
    width = draw(st.integers(1, 24))
    frac = draw(st.integers(-3, width))
    signed = draw(st.booleans())
    return fixed_point_samples(draw(st.integers(0, 2**32)), width, frac), width, frac, signed


@settings(max_examples=200, deadline=None)
@given(cases())
def test_matches_exact_reference(case: tuple[list[float], int, int, bool]) -> None:
    """200 examples x 64 values = 12,800 cases."""
    xs, width, frac, signed = case
    got = integer_quantizer(torch.tensor(xs, dtype=torch.float32), width, frac, signed)
    for x, value in zip(torch.tensor(xs, dtype=torch.float32).tolist(), got.tolist()):
        assert Fraction(value) == integer_reference(x, width, frac, signed), (x, width, frac, signed)


@settings(max_examples=50, deadline=None)
@given(cases())
def test_idempotent(case: tuple[list[float], int, int, bool]) -> None:
    xs, width, frac, signed = case
    once = integer_quantizer(torch.tensor(xs), width, frac, signed)
    assert torch.equal(integer_quantizer(once, width, frac, signed), once)


def test_gradient_is_identity_even_where_clamped() -> None:
    x = torch.tensor([0.3, 100.0, -100.0, 2.53125], requires_grad=True)
    upstream = torch.tensor([1.0, -2.0, 3.0, 0.5])
    (integer_quantizer(x, 8, 4) * upstream).sum().backward()
    assert torch.equal(x.grad, upstream)


@st.composite
def wide_cases(draw: st.DrawFn) -> tuple[list[float], int, int, bool]:
    """Widths float32 cannot hold (25..52 bits), float64 values with up to 53 significant bits."""
    width = draw(st.integers(25, MAX_FIXED_WIDTH))
    frac = draw(st.integers(-8, width))
    rng = np.random.default_rng(draw(st.integers(0, 2**32)))
    step = 2.0**-frac
    grid = rng.integers(-(2**width), 2**width, 48, dtype=np.int64).astype(np.float64) * step
    ties = grid + 0.5 * step  # exact where the sum fits in 53 bits
    edges = (np.array([-(2.0 ** (width - 1)), 2.0 ** (width - 1) - 1, 2.0**width - 1]) + rng.integers(-2, 3, 3)) * step
    gauss = rng.normal(0, 2.0 ** (width - 1) * step, 16)
    return [float(v) for v in np.concatenate([grid, ties, edges, gauss])], width, frac, draw(st.booleans())


@settings(max_examples=100, deadline=None)
@given(wide_cases())
def test_wide_formats_are_exact_in_float64_and_rounded_once_in_float32(case: tuple[list[float], int, int, bool]) -> None:
    xs, width, frac, signed = case
    expected = [integer_reference(x, width, frac, signed) for x in xs]
    got = integer_quantizer(torch.tensor(xs, dtype=torch.float64), width, frac, signed)
    assert [Fraction(v) for v in got.tolist()] == expected
    narrow = torch.tensor(xs, dtype=torch.float32)
    got32 = integer_quantizer(narrow, width, frac, signed)
    assert got32.dtype == torch.float32
    reference32 = [integer_reference(x, width, frac, signed) for x in narrow.tolist()]
    assert got32.tolist() == [float(np.float32(float(v))) for v in reference32]
    assert torch.equal(integer_quantizer(got, width, frac, signed), got)


def test_width_32_as_in_mase_fixed_activation_binary() -> None:
    x64 = torch.tensor([3e9, -3e9, 123456789.4, -0.5, 1.5], dtype=torch.float64)
    assert integer_quantizer(x64, 32, 0).tolist() == [2**31 - 1, -(2**31), 123456789.0, -0.0, 2.0]
    # float32 cannot hold 2^31 - 1: the exact value is rounded once, to 2^31
    assert integer_quantizer(x64.float(), 32, 0).tolist() == [2.0**31, -(2.0**31), 123456792.0, -0.0, 2.0]
    assert make_quantizer("integer", {"width": 32, "frac_width": 0}).value_range() == (-(2.0**31), 2.0**31 - 1)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_inputs_are_computed_exactly(dtype: torch.dtype) -> None:
    """bfloat16 holds 8-bit integers exactly, float16 11-bit ones; wider formats go through float64."""
    x = (torch.randn(256, dtype=torch.float64) * 100).to(dtype)
    for width, frac in [(8, 2), (12, 4), (16, 8)]:
        expected = [integer_reference(v, width, frac) for v in x.tolist()]
        got = integer_quantizer(x, width, frac)
        assert got.dtype == dtype
        assert got.tolist() == [float(torch.tensor(float(v), dtype=torch.float64).to(dtype)) for v in expected]


def test_negative_frac_width_is_a_coarser_step() -> None:
    """frac_width -2 is ap_fixed<4,6>: a step of 4, range [-32, 28] (signed), as hardware types allow."""
    x = torch.tensor([5.0, 6.0, 10.0, -31.0, 100.0, -100.0])
    assert integer_quantizer(x, 4, -2).tolist() == [4.0, 8.0, 8.0, -32.0, 28.0, -32.0]
    assert make_quantizer("fixed", {"width": 4, "frac_width": -2}).value_range() == (-32.0, 28.0)
