"""minifloat_ieee, minifloat_denorm and log against exact references; binary and ternary."""

from __future__ import annotations

from fractions import Fraction

import hypothesis.strategies as st
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from quantizer_references import log_reference, minifloat_reference, minifloat_values

from chop.quantizers import (
    binary_quantizer,
    log_quantizer,
    minifloat_denorm_quantizer,
    minifloat_ieee_quantizer,
    make_quantizer,
    ternary_quantizer,
)


def _samples(seed: int, scale: float, count: int = 64) -> list[float]:
    rng = np.random.default_rng(seed)
    magnitudes = np.minimum(np.exp2(rng.uniform(np.log2(scale) - 14, np.log2(scale) + 3, count)), 2.0**120)
    values = (rng.choice([-1.0, 1.0], count) * magnitudes).astype(np.float32)
    values[: count // 8] = 0.0
    return [float(v) for v in values]


@st.composite
def minifloat_cases(draw: st.DrawFn) -> tuple[list[float], int, int, int, bool]:
    width = draw(st.integers(4, 10))
    reserve_top = draw(st.booleans())
    exponent_width = draw(st.integers(2 if reserve_top else 1, width - 2))
    bias = draw(st.integers(-2, 2**exponent_width))
    values = minifloat_values(width, exponent_width, bias, reserve_top)
    pool = _samples(draw(st.integers(0, 2**32)), float(values[-1]))
    # exact midpoints between neighbours: the ties
    ties = [float((a + b) / 2) for a, b in zip(values, values[1:])][:: max(1, len(values) // 16)]
    return pool + ties + [-t for t in ties], width, exponent_width, bias, reserve_top


@settings(max_examples=120, deadline=None)
@given(minifloat_cases())
def test_minifloats_match_enumerated_values(case: tuple[list[float], int, int, int, bool]) -> None:
    xs, width, exponent_width, bias, reserve_top = case
    quantizer = minifloat_ieee_quantizer if reserve_top else minifloat_denorm_quantizer
    got = quantizer(torch.tensor(xs, dtype=torch.float64), width, exponent_width, bias).tolist()
    values = minifloat_values(width, exponent_width, bias, reserve_top)
    for x, result in zip(xs, got):
        assert Fraction(result) == minifloat_reference(x, values), (x, width, exponent_width, bias, reserve_top)


def test_minifloat_e4m3_landmarks() -> None:
    x = torch.tensor([1000.0, -1000.0, 0.3, 2.0**-9, 2.0**-11, 1.0625, 1.1875])
    # IEEE-style E4M3: largest 240 (top code reserved), smallest subnormal 2^-9, 3 mantissa bits (ties to even)
    assert minifloat_ieee_quantizer(x, 8, 4).tolist() == [240.0, -240.0, 0.3125, 2.0**-9, 0.0, 1.0, 1.25]
    assert minifloat_denorm_quantizer(x, 8, 4)[:2].tolist() == [480.0, -480.0]


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 8), st.integers(-4, 8), st.integers(0, 2**32))
def test_log_matches_reference(width: int, bias: int, seed: int) -> None:
    xs = _samples(seed, 2.0 ** (2 ** (width - 1) - 1 - bias))
    got = log_quantizer(torch.tensor(xs), width, bias).tolist()
    for x, result in zip(xs, got):
        assert Fraction(result) == log_reference(x, width, bias), (x, width, bias)


def test_log_rounds_in_the_log_domain() -> None:
    # width 4: e = 3 exponent bits, default bias 2^2 - 1 = 3, exponents in [-3, 4], m = 1/8
    # 2.8 < 2*sqrt(2) = 2.83 -> 2 ; 2.9 -> 4 ; zero is not representable: +m ; clamped to [2^-3, 2^4]
    x = torch.tensor([2.8, 2.9, 0.0, -3.0, 1000.0, 1e-6, -1e-6])
    assert log_quantizer(x, 4).tolist() == [2.0, 4.0, 0.125, -4.0, 16.0, 0.125, 0.125]


def test_log_with_mase_bias_128() -> None:
    """MASE's log.toml: width 8, exponent_bias 128, so exponents [-128, -1] and zero -> 2^-128."""
    x = torch.tensor([0.0, 1.0, -0.3, 0.1, 2.0**-130, -(2.0**-127) * 1.25])
    assert log_quantizer(x, 8, 128).tolist() == [2.0**-128, 0.5, -0.25, 0.125, 2.0**-128, -(2.0**-127)]
    assert make_quantizer("log", {"width": 8, "exponent_bias": 128}).value_range() == (-0.5, 0.5)


def test_binary_and_ternary() -> None:
    x = torch.tensor([-2.0, -0.1, 0.0, 0.05, 3.0])
    assert binary_quantizer(x).tolist() == [-1.0, -1.0, 1.0, 1.0, 1.0]
    assert ternary_quantizer(x, 0.5).tolist() == [-1.0, 0.0, 0.0, 0.0, 1.0]
    # default threshold 0.7 * mean|x| = 0.7 * 1.03 = 0.721
    assert ternary_quantizer(x).tolist() == [-1.0, 0.0, 0.0, 0.0, 1.0]


@pytest.mark.parametrize("quantize", [
    lambda x: minifloat_ieee_quantizer(x, 8, 4), lambda x: minifloat_denorm_quantizer(x, 6, 3),
    lambda x: log_quantizer(x, 5),
    binary_quantizer, lambda x: ternary_quantizer(x, 0.3),
])
def test_idempotent_with_identity_gradient(quantize) -> None:  # noqa: ANN001
    x = (torch.randn(4, 12) * 3).requires_grad_()
    once = quantize(x)
    assert torch.equal(quantize(once.detach()), once.detach())
    upstream = torch.randn(4, 12)
    (once * upstream).sum().backward()
    assert torch.equal(x.grad, upstream)


@settings(max_examples=80, deadline=None)
@given(minifloat_cases())
def test_minifloats_are_idempotent_and_on_their_grid(case: tuple[list[float], int, int, int, bool]) -> None:
    xs, width, exponent_width, bias, reserve_top = case
    quantizer = minifloat_ieee_quantizer if reserve_top else minifloat_denorm_quantizer
    once = quantizer(torch.tensor(xs, dtype=torch.float64), width, exponent_width, bias)
    assert torch.equal(quantizer(once, width, exponent_width, bias), once)
    grid = set(minifloat_values(width, exponent_width, bias, reserve_top))
    assert all(abs(Fraction(v)) in grid for v in once.tolist())


@settings(max_examples=80, deadline=None)
@given(st.integers(2, 8), st.integers(-4, 130), st.integers(0, 2**32))
def test_log_is_idempotent_and_on_its_grid(width: int, bias: int, seed: int) -> None:
    xs = _samples(seed, 2.0 ** (2 ** (width - 1) - 1 - bias))
    once = log_quantizer(torch.tensor(xs, dtype=torch.float64), width, bias)
    assert torch.equal(log_quantizer(once, width, bias), once)
    grid = {Fraction(2) ** k for k in range(-bias, 2 ** (width - 1) - bias)}  # ±2^k; zero is not on it
    assert all(abs(Fraction(v)) in grid for v in once.tolist())
