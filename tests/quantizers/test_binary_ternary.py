"""Binary and ternary quantisers (lab-api §6) against the rules written out, and their config flags."""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
import torch
from hypothesis import given, settings

from chop.errors import PassError
from chop.quantizers import binary_quantize, binary_quantizer, make_quantizer, ternary_quantize, ternary_quantizer

floats = st.lists(st.floats(-4, 4, allow_nan=False, width=32), min_size=1, max_size=40)


def test_deterministic_binary_bipolar_and_zero_one() -> None:
    x = torch.tensor([-2.0, -0.1, 0.0, 0.05, 3.0])
    assert binary_quantize(x, bipolar=True).tolist() == [-1.0, -1.0, 1.0, 1.0, 1.0]
    assert binary_quantize(x, bipolar=False).tolist() == [0.0, 0.0, 1.0, 1.0, 1.0]


@settings(max_examples=60, deadline=None)
@given(floats, st.booleans())
def test_deterministic_binary_is_the_sign_rule(values: list[float], bipolar: bool) -> None:
    x = torch.tensor(values)
    low = -1.0 if bipolar else 0.0
    assert binary_quantize(x, bipolar=bipolar).tolist() == [1.0 if v >= 0 else low for v in x.tolist()]


def test_stochastic_binary_is_seeded_and_follows_the_probability_rule() -> None:
    x = torch.linspace(-1.5, 1.5, 4001)
    once = binary_quantize(x, stochastic=True, seed=3)
    assert torch.equal(once, binary_quantize(x, stochastic=True, seed=3))  # same seed, same output
    assert not torch.equal(once, binary_quantize(x, stochastic=True, seed=4))
    draws = torch.rand(x.shape, generator=torch.Generator().manual_seed(3))
    assert torch.equal(once, torch.where(draws < torch.clamp((x + 1) / 2, 0, 1), 1.0, -1.0))
    assert (once[x >= 1] == 1).all() and (once[x <= -1] == -1).all()  # p = 1 and p = 0 are certain
    zero_one = binary_quantize(x, stochastic=True, bipolar=False, seed=3)
    assert torch.equal(zero_one, (once + 1) / 2)


def test_stochastic_binary_leaves_the_global_generator_alone() -> None:
    torch.manual_seed(11)
    expected = torch.rand(3)
    torch.manual_seed(11)
    binary_quantizer(torch.zeros(4, 4) - 0.5, stochastic=True)
    binary_quantizer(torch.zeros(50), stochastic=True, seed=7)
    assert torch.equal(torch.rand(3), expected)


def test_frequency_of_ones_matches_p_for_a_fixed_seed() -> None:
    x = torch.full((20000,), 0.5)  # p = 0.75
    share = (binary_quantize(x, stochastic=True, seed=0) == 1).float().mean().item()
    assert abs(share - 0.75) < 0.01


@pytest.mark.parametrize("quantize", [
    lambda x: binary_quantizer(x, stochastic=True, seed=1), lambda x: ternary_quantizer(x, scaling_factor=True),
])
def test_gradient_is_identity(quantize) -> None:  # noqa: ANN001
    x = torch.randn(6, 5).requires_grad_()
    quantize(x).mul(torch.arange(30.0).reshape(6, 5)).sum().backward()
    assert torch.equal(x.grad, torch.arange(30.0).reshape(6, 5))


def test_ternary_threshold_preference_mean_then_max_then_median_then_tensor() -> None:
    x = torch.tensor([-1.0, -0.3, 0.1, 0.2, 0.5, 2.0])
    assert ternary_quantize(x, mean=0.4).tolist() == [-1.0, 0.0, 0.0, 0.0, 1.0, 1.0]  # 0.3
    assert ternary_quantize(x, mean=0.4, max=100.0, median=0.0).tolist() == [-1.0, 0.0, 0.0, 0.0, 1.0, 1.0]
    assert ternary_quantize(x, max=3.0, median=10.0).tolist() == [-1.0, -1.0, 0.0, 1.0, 1.0, 1.0]  # 0.15
    assert ternary_quantize(x, median=1.0).tolist() == [-1.0, 0.0, 0.0, 0.0, 0.0, 1.0]  # 0.75
    # no statistic: 0.75 * mean|x| = 0.75 * 4.1 / 6 = 0.5125
    assert ternary_quantize(x).tolist() == [-1.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    assert ternary_quantize(x, threshold=0.25, mean=100.0).tolist() == [-1.0, -1.0, 0.0, 0.0, 1.0, 1.0]


@settings(max_examples=60, deadline=None)
@given(floats, st.floats(0.0, 3.0, width=32))
def test_ternary_scaled_is_alpha_times_the_signs(values: list[float], threshold: float) -> None:
    x = torch.tensor(values)
    beyond = [abs(v) for v in x.tolist() if abs(v) > threshold]
    alpha = sum(beyond) / len(beyond) if beyond else 0.0
    signs = [(1.0 if v > threshold else -1.0 if v < -threshold else 0.0) for v in x.tolist()]
    assert ternary_quantize(x, threshold=threshold).tolist() == signs
    assert ternary_quantize(x, threshold=threshold, scaling_factor=True).tolist() == pytest.approx(
        [s * alpha for s in signs], rel=1e-6, abs=1e-6)


def test_flags_take_booleans_or_zero_and_one() -> None:
    assert make_quantizer("binary", {"stochastic": 1, "bipolar": 0}).kwargs == {
        "stochastic": True, "bipolar": False, "seed": 0}
    assert make_quantizer("ternary", {"scaling_factor": True}).kwargs["scaling_factor"] is True
    for bad in (2, 1.0, "yes"):
        with pytest.raises(PassError, match=r"weight_bipolar must be true/false \(or 1/0\), got"):
            make_quantizer("binary", {"bipolar": bad}, operand="weight")
