"""ap_fixed<W,I,Q,O>: every rounding and overflow mode against an exact Fraction reference."""

from __future__ import annotations

from fractions import Fraction

import hypothesis.strategies as st
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from quantizer_references import ap_fixed_reference, fixed_point_samples

from chop.errors import PassError
from chop.quantizers import ApFixed, ap_fixed_quantizer, integer_quantizer
from chop.quantizers.ap_fixed import OVERFLOW_MODES, ROUNDING_MODES

MODES = [(q, o) for q in ROUNDING_MODES for o in OVERFLOW_MODES]


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[float], int, int, bool]:
    """Type drawn by hypothesis; 64 float32 values per example from ``fixed_point_samples``."""
    width = draw(st.integers(1, 24))
    int_width = draw(st.integers(0, width + 3))
    signed = draw(st.booleans())
    return fixed_point_samples(draw(st.integers(0, 2**32)), width, width - int_width), width, int_width, signed


@settings(max_examples=160, deadline=None)
@given(cases())
def test_every_mode_matches_exact_reference(case: tuple[list[float], int, int, bool]) -> None:
    """160 examples x 64 values = 10,240 cases for each of the 7 x 4 (rounding, overflow) pairs."""
    xs, width, int_width, signed = case
    x = torch.tensor(xs, dtype=torch.float32)
    exact = x.tolist()
    for rounding, overflow in MODES:
        got = ap_fixed_quantizer(x, width, int_width, rounding, overflow, signed).tolist()
        for value, result in zip(exact, got):
            expected = ap_fixed_reference(value, width, int_width, rounding, overflow, signed)
            assert Fraction(result) == expected, (value, width, int_width, rounding, overflow, signed)


@settings(max_examples=30, deadline=None)
@given(cases())
def test_idempotent_in_every_mode(case: tuple[list[float], int, int, bool]) -> None:
    xs, width, int_width, signed = case
    for rounding, overflow in MODES:
        once = ap_fixed_quantizer(torch.tensor(xs), width, int_width, rounding, overflow, signed)
        assert torch.equal(ap_fixed_quantizer(once, width, int_width, rounding, overflow, signed), once)


@settings(max_examples=40, deadline=None)
@given(st.integers(25, 52), st.integers(-8, 60), st.booleans(), st.integers(0, 2**32))
def test_wide_types_are_exact_in_float64(width: int, int_width: int, signed: bool, seed: int) -> None:
    """Widths float32 cannot hold, float64 inputs: every mode still matches the exact reference."""
    int_width = max(int_width, 0)
    rng = np.random.default_rng(seed)
    step = 2.0 ** (int_width - width)
    xs = np.concatenate([(rng.integers(-(2**width), 2**width, 24, dtype=np.int64) + rng.choice([0, 0.5, 0.25], 24)),
                         rng.normal(0, 2.0 ** (width - 1), 8)]) * step
    x = torch.tensor(xs, dtype=torch.float64)
    for rounding, overflow in MODES:
        got = ap_fixed_quantizer(x, width, int_width, rounding, overflow, signed).tolist()
        for value, result in zip(xs.tolist(), got):
            assert Fraction(result) == ap_fixed_reference(value, width, int_width, rounding, overflow, signed)


def test_hand_picked_values_ap_fixed_8_4() -> None:
    x = torch.tensor([0.30, 2.53125, -2.53125, 10.0, -10.0])
    assert ap_fixed_quantizer(x, 8, 4, "RND_CONV", "SAT").tolist() == [0.3125, 2.5, -2.5, 7.9375, -8.0]
    assert ap_fixed_quantizer(x, 8, 4).tolist() == [0.25, 2.5, -2.5625, -6.0, 6.0]  # TRN, WRAP
    assert ap_fixed_quantizer(x, 8, 4, "RND", "SAT_SYM").tolist() == [0.3125, 2.5625, -2.5, 7.9375, -7.9375]
    assert ap_fixed_quantizer(x, 8, 4, "RND_INF", "SAT_ZERO").tolist() == [0.3125, 2.5625, -2.5625, 0.0, 0.0]


def test_rnd_conv_sat_is_the_mase_integer_quantizer() -> None:
    x = torch.randn(10_000) * 20
    for width, frac in [(8, 4), (4, 1), (12, 10), (16, 0)]:
        assert torch.equal(ap_fixed_quantizer(x, width, width - frac, "AP_RND_CONV", "AP_SAT"),
                           integer_quantizer(x, width, frac))


def test_type_prints_and_parses_like_hls4ml() -> None:
    t = ApFixed(16, 6, "RND", "SAT")
    assert str(t) == "ap_fixed<16,6,AP_RND,AP_SAT>"
    assert ApFixed.parse(str(t)) == t
    assert ApFixed.parse("ap_fixed<8,3>") == ApFixed(8, 3, "TRN", "WRAP")
    assert str(ApFixed.parse("ap_ufixed<8,0,RND_CONV,SAT>")) == "ap_ufixed<8,0,AP_RND_CONV,AP_SAT>"
    assert t.frac_width == 10
    assert ApFixed(8, 4, overflow="SAT").range() == (-8.0, 7.9375)
    assert ApFixed(8, 4, overflow="SAT_SYM").range() == (-7.9375, 7.9375)
    assert ApFixed(8, 4, signed=False).range() == (0.0, 15.9375)


@pytest.mark.parametrize("text", ["ap_fixed<8>", "fixed<8,4>", "ap_fixed<8,4,AP_ROUND>", "ap_fixed<0,0>",
                                  "ap_fixed<53,10>", "ap_fixed<8,1025>"])
def test_bad_types_are_one_line_errors(text: str) -> None:
    with pytest.raises(PassError) as error:
        ApFixed.parse(text)
    assert "\n" not in str(error.value)


def test_gradient_is_identity() -> None:
    x = torch.tensor([0.3, 100.0, -7.1], requires_grad=True)
    ap_fixed_quantizer(x, 6, 2, "RND", "WRAP").sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]
