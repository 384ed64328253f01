"""integer_quantizer: the spec's examples, and exact agreement with a Fraction reference."""

from __future__ import annotations

from fractions import Fraction

import hypothesis.strategies as st
import torch
from hypothesis import given, settings
from quantizer_references import fixed_point_samples, integer_reference

from chop.quantizers import integer_quantizer, make_quantizer


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
