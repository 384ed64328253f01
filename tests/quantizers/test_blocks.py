"""MASE's blocking: right-aligned block sizes, skip_first_dim, zero padding and the all-zero-block rule."""

from __future__ import annotations

from fractions import Fraction

import hypothesis.strategies as st
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from quantizer_references import reference_block_maxima

from chop.quantizers._blocks import block_max, block_shape


@pytest.mark.parametrize(("shape", "block_size", "skip", "expected"), [
    ((4, 20), [16], False, (4, 16)),        # missing leading dim: the whole dim
    ((4, 20), [1, 16], False, (1, 16)),
    ((4, 20), 16, False, (4, 16)),          # an int is a one-entry list
    ((4, 20), [16], True, (1, 16)),         # data_in: one sample per block
    ((4, 20), [2, 64], False, (2, 20)),     # larger than the dim: the whole dim
    ((4, 20), [-1, 5], False, (4, 5)),      # -1: the whole dim
    ((3, 4, 20), [9, 1, 16], True, (1, 1, 16)),
    ((20,), [1, 16], False, (16,)),         # longer than the tensor: its last entries
    ((7,), [16], False, (7,)),
])
def test_block_shape_as_mase_infers_it(shape: tuple, block_size: object, skip: bool, expected: tuple) -> None:
    assert block_shape(shape, block_size, skip) == expected


@st.composite
def blocked_tensors(draw: st.DrawFn) -> tuple[np.ndarray, list[int] | int, bool]:
    shape = tuple(draw(st.lists(st.integers(1, 7), min_size=1, max_size=3)))
    size = st.integers(1, 8) | st.just(-1)
    block_size = draw(size.filter(lambda n: n != -1) | st.lists(size, min_size=1, max_size=4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32)))
    values = rng.normal(0, 2.0 ** draw(st.integers(-6, 6)), shape).astype(np.float32)
    values[rng.random(shape) < draw(st.sampled_from([0.0, 0.5, 0.9, 1.0]))] = 0.0  # all-zero blocks, often
    return values, block_size, draw(st.booleans())


@settings(max_examples=200, deadline=None)
@given(blocked_tensors())
def test_block_max_matches_a_loop_over_elements(case: tuple[np.ndarray, list[int] | int, bool]) -> None:
    values, block_size, skip = case
    got = block_max(torch.from_numpy(values), block_size, skip)
    assert got.shape == values.shape and got.dtype == torch.float64
    assert [Fraction(v) for v in got.reshape(-1).tolist()] == reference_block_maxima(values, block_size, skip)


def test_zero_blocks_take_the_smallest_nonzero_block_max() -> None:
    x = torch.tensor([[0.0, 0.0, 3.0, -5.0], [0.0, 0.0, 0.0, 0.5]])
    assert block_max(x, [2], skip_first_dim=True).tolist() == [[0.5, 0.5, 5.0, 5.0], [0.5, 0.5, 0.5, 0.5]]
    assert block_max(torch.zeros(2, 3), 2, skip_first_dim=False).tolist() == [[1.0] * 3] * 2
    # padding: the last block of 3 holds one real value and two zeros
    assert block_max(torch.tensor([1.0, -2.0, 3.0, 0.25]), 3, skip_first_dim=False).tolist() == [3.0, 3.0, 3.0, 0.25]


def test_skip_first_dim_keeps_samples_apart() -> None:
    x = torch.tensor([[100.0, 1.0], [0.5, 0.25]])
    assert block_max(x, [2, 2], skip_first_dim=True).tolist() == [[100.0, 100.0], [0.5, 0.5]]
    assert block_max(x, [2, 2], skip_first_dim=False).tolist() == [[100.0, 100.0], [100.0, 100.0]]
