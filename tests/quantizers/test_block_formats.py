"""block_fp, block_log and block_minifloat: MASE's blocking and formulas against loop references."""

from __future__ import annotations

from fractions import Fraction

import hypothesis.strategies as st
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from quantizer_references import (
    block_fp_reference,
    block_log_reference,
    block_minifloat_reference,
    floor_log2,
    minifloat_values,
)
from torch.func import vmap

from chop.quantizers import block_fp_quantizer, block_log_quantizer, block_minifloat_quantizer


@st.composite
def tensors(draw: st.DrawFn, top: int = 12) -> tuple[np.ndarray, list[int] | int, bool]:
    """A 1-3 dim float32 tensor (some blocks all zero), a block size (int or list) and skip_first_dim."""
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=3)))
    size = st.integers(1, 7) | st.just(-1)
    block_size = draw(st.integers(1, 7) | st.lists(size, min_size=1, max_size=3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32)))
    scale = 2.0 ** draw(st.integers(-10, top))
    values = (rng.normal(0, scale, shape) * rng.choice([1.0, 1e-3], shape)).astype(np.float32)
    values[rng.random(shape) < draw(st.sampled_from([0.0, 0.3, 1.0]))] = 0.0
    return values, block_size, draw(st.booleans())


def _fractions(x: torch.Tensor) -> list[Fraction]:
    return [Fraction(v) for v in x.reshape(-1).tolist()]


def _is_power_of_two(value: Fraction) -> bool:
    return value > 0 and value.numerator & (value.numerator - 1) == 0 and value.denominator & (value.denominator - 1) == 0


@settings(max_examples=120, deadline=None)
@given(tensors(), st.integers(2, 9), st.integers(1, 4), st.integers(-3, 6))
def test_block_fp_matches_reference(case: tuple, width: int, exponent_width: int, bias: int) -> None:
    values, block_size, skip = case
    got = block_fp_quantizer(torch.from_numpy(values), width, exponent_width, bias, block_size, skip)
    assert got.dtype == torch.float32 and got.shape == values.shape
    assert _fractions(got) == block_fp_reference(values, width, exponent_width, bias, block_size, skip)


@settings(max_examples=120, deadline=None)
@given(tensors(), st.integers(2, 8), st.integers(0, 4))
def test_block_log_matches_reference(case: tuple, width: int, bias_width: int) -> None:
    values, block_size, skip = case
    got = block_log_quantizer(torch.from_numpy(values), width, bias_width, block_size, skip)
    assert _fractions(got) == block_log_reference(values, width, bias_width, block_size, skip)


@st.composite
def minifloat_formats(draw: st.DrawFn) -> tuple[int, int, int]:
    width = draw(st.integers(4, 8))
    return width, draw(st.integers(2, width - 2)), draw(st.integers(0, 3))


@settings(max_examples=120, deadline=None)
@given(tensors(), minifloat_formats())
def test_block_minifloat_matches_reference(case: tuple, fmt: tuple[int, int, int]) -> None:
    values, block_size, skip = case
    got = block_minifloat_quantizer(torch.from_numpy(values), *fmt, block_size, skip)
    assert _fractions(got) == block_minifloat_reference(values, *fmt, block_size, skip)


@settings(max_examples=60, deadline=None)
@given(tensors(top=40), st.integers(2, 9), st.integers(1, 4), st.integers(-3, 6))
def test_block_fp_is_idempotent_and_on_its_grid(case: tuple, width: int, exponent_width: int, bias: int) -> None:
    values, block_size, skip = case
    once = block_fp_quantizer(torch.from_numpy(values), width, exponent_width, bias, block_size, skip)
    assert torch.equal(block_fp_quantizer(once, width, exponent_width, bias, block_size, skip), once)
    # every value is n * 2^(E - width + 1), |n| <= 2^(width-1) - 1, E within the exponent range
    lowest_step = Fraction(2) ** (-bias - width + 1)
    largest = (2 ** (width - 1) - 1) * Fraction(2) ** (2**exponent_width - 1 - bias - width + 1)
    for q in _fractions(once):
        assert (q / lowest_step).denominator == 1 and abs(q) <= largest


@settings(max_examples=60, deadline=None)
@given(tensors(top=40), st.integers(2, 8), st.integers(0, 4))
def test_block_log_is_idempotent_and_on_its_grid(case: tuple, width: int, bias_width: int) -> None:
    values, block_size, skip = case
    once = block_log_quantizer(torch.from_numpy(values), width, bias_width, block_size, skip)
    assert torch.equal(block_log_quantizer(once, width, bias_width, block_size, skip), once)
    for q in _fractions(once):  # ±2^k, k in [-(2^bias_width - 1), 2^(width-1) - 1]; never 0
        assert _is_power_of_two(abs(q)) and 1 - 2**bias_width <= floor_log2(abs(q)) <= 2 ** (width - 1) - 1


@settings(max_examples=60, deadline=None)
@given(tensors(top=40), minifloat_formats())
def test_block_minifloat_is_on_its_grid(case: tuple, fmt: tuple[int, int, int]) -> None:
    values, block_size, skip = case
    once = block_minifloat_quantizer(torch.from_numpy(values), *fmt, block_size, skip)
    width, exponent_width, bias_width = fmt
    grid = {v for bias in range(2**bias_width) for v in minifloat_values(width, exponent_width, bias, True)}
    assert all(abs(q) in grid for q in _fractions(once))


@settings(max_examples=60, deadline=None)
@given(tensors(top=0), minifloat_formats())
def test_block_minifloat_is_idempotent_while_block_maxima_fit(case: tuple, fmt: tuple[int, int, int]) -> None:
    """Below 2^(2^(e-1) - 1) (e = exponent_width) a block's range still holds its max after the bias moves."""
    values, block_size, skip = case
    width, exponent_width, bias_width = fmt
    values = np.clip(values, -(2.0 ** (2 ** (exponent_width - 1) - 1)) * 0.99, 2.0 ** (2 ** (exponent_width - 1) - 1) * 0.99)
    once = block_minifloat_quantizer(torch.from_numpy(values.astype(np.float32)), *fmt, block_size, skip)
    assert torch.equal(block_minifloat_quantizer(once, *fmt, block_size, skip), once)


def test_block_minifloat_bias_grows_with_the_block_max_as_in_mase() -> None:
    """MASE's bias = floor(log2 blockmax) shifts a large block's range *down*: 40000 saturates at
    0.9375 (bias 15, width 8, exponent_width 4); re-quantising takes bias 0, whose subnormal step
    is 2^-2: 0.9375 -> 1.0 and 2^-10 -> 0. Quantising twice is not quantising once here."""
    x = torch.tensor([40000.0, 2.0**-10])
    once = block_minifloat_quantizer(x, 8, 4, 4, [16])
    assert once.tolist() == [0.9375, 2.0**-10]
    assert block_minifloat_quantizer(once, 8, 4, 4, [16]).tolist() == [1.0, 0.0]


def test_block_fp_worked_example() -> None:
    # width 4 (3 mantissa bits), exponent_width 3, bias 3: E in [-3, 4]
    # block max 2.5 -> E = floor(log2 2.5) + 1 = 2, step 2^(2-3) = 0.5; 3.9 / 0.5 = 7.8 saturates at 7
    # 100 -> E clamped to 4, step 2: 50 saturates at 7 (14.0) and 1.0 / 2 = 0.5 ties to even (0)
    x = torch.tensor([[0.3, -1.2, 2.5, 0.01], [3.9, 0.0, 0.0, 0.0], [100.0, 1.0, 0.0, 0.0]])
    got = block_fp_quantizer(x, 4, 3, None, [1, 4])  # one block per row
    assert got.tolist() == [[0.5, -1.0, 2.5, 0.0], [3.5, 0.0, 0.0, 0.0], [14.0, 0.0, 0.0, 0.0]]


def test_block_log_worked_example() -> None:
    # width 4 (e = 3), exponent_bias_width 2: bias = clamp(7 - ceil(log2 blockmax), 0, 3)
    # [3, 0.3, 0, -1.1]: bias 3, exponents [-3, 4], zero -> +2^-3 ; [200]: bias 0, exponents [0, 7]
    x = torch.tensor([3.0, 0.3, 0.0, -1.1, 200.0, 0.0, 0.0, 0.0])
    assert block_log_quantizer(x, 4, 2, 4).tolist() == [4.0, 0.25, 0.125, -1.0, 128.0, 1.0, 1.0, 1.0]


def test_block_minifloat_worked_example() -> None:
    # width 6, exponent_width 3 (2 mantissa bits), bias = floor(log2 5) = 2: exponents [-1, 4]
    x = torch.tensor([5.0, 0.3, -0.7])
    assert block_minifloat_quantizer(x, 6, 3, 2, [16]).tolist() == [5.0, 0.25, -0.75]


def test_data_in_blocks_never_mix_samples() -> None:
    x = torch.tensor([[100.0, 0.3], [0.3, 0.2]])
    assert block_fp_quantizer(x, 4, 8, None, [16], skip_first_dim=True).tolist() == [[96.0, 0.0], [0.3125, 0.1875]]
    assert block_fp_quantizer(x, 4, 8, None, [16], skip_first_dim=False).tolist() == [[96.0, 0.0], [0.0, 0.0]]


@pytest.mark.parametrize("quantize", [
    lambda x: block_fp_quantizer(x, 6, 4, None, [1, 4], True),
    lambda x: block_log_quantizer(x, 5, 3, 4, False),
    lambda x: block_minifloat_quantizer(x, 8, 4, 4, [16], True),
])
def test_vmap_matches_a_loop_and_gradient_is_identity(quantize) -> None:  # noqa: ANN001
    stacked = torch.randn(3, 5, 12) * torch.tensor([0.01, 1.0, 50.0]).reshape(3, 1, 1)
    assert torch.equal(vmap(quantize)(stacked), torch.stack([quantize(w) for w in stacked]))
    x = stacked[1].clone().requires_grad_()
    upstream = torch.randn(5, 12)
    (quantize(x) * upstream).sum().backward()
    assert torch.equal(x.grad, upstream)
