"""Logarithmic (power-of-two) quantiser as MASE computes it: a sign bit and ``e = width - 1`` exponent bits.

With ``m = 2^-bias`` (``exponent_bias`` defaults to ``2^(e-1) - 1``)::

    q(x) = sign(x + 0.1·m) · 2^clamp(round(log2(|x| + 0.1·m)), -bias, 2^e - 1 - bias)

Zero is not representable: it maps to ``+m`` (so do inputs in ``(-0.1·m, 0)``). The sum
``|x| + 0.1·m`` is taken in float64; rounding in the log domain goes up exactly when the sum's
significand is at least ``1/sqrt(2)``, compared against the smallest float64 above ``1/sqrt(2)``,
so no ``log2`` rounding can pick the wrong power (``log2`` of a float is never exactly a half-integer).
``bias`` may be a tensor broadcast against ``x`` (``block_log`` gives one bias per block).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import torch
from torch import Tensor

from chop.quantizers.quantizer import Quantizer, check_float64_span, check_width, key
from chop.quantizers.ste import straight_through


def _round_up_threshold() -> float:
    """The smallest float64 strictly above ``1/sqrt(2)`` (which no float64 equals)."""
    nearest = math.sqrt(0.5)  # correctly rounded, so the answer is it or the next float up
    return nearest if Fraction(nearest) ** 2 > Fraction(1, 2) else math.nextafter(nearest, 1.0)


ROUND_UP_THRESHOLD = _round_up_threshold()


def default_log_bias(width: int) -> int:
    return 2 ** (width - 2) - 1


def log_exponent_limits(width: int, exponent_bias: int | None) -> tuple[int, int]:
    """Smallest and largest exponent: ``-bias`` and ``2^(width-1) - 1 - bias``."""
    bias = default_log_bias(width) if exponent_bias is None else exponent_bias
    return -bias, 2 ** (width - 1) - 1 - bias


def log_range(width: int, exponent_bias: int | None = None) -> tuple[float, float]:
    largest = 2.0 ** log_exponent_limits(width, exponent_bias)[1]
    return -largest, largest


def nearest_log2(value: Tensor) -> Tensor:
    """``round(log2(value))`` for positive float64 values, decided exactly."""
    fraction, exponent = torch.frexp(value)  # value = fraction * 2^exponent, fraction in [0.5, 1)
    return exponent.to(torch.float64) - 1 + (fraction >= ROUND_UP_THRESHOLD).to(torch.float64)


def log_quantize_biased(x: Tensor, width: int, bias: Tensor) -> Tensor:
    """The MASE formula with a float64 ``bias`` tensor broadcast against ``x``; float64 result."""
    wide = x.to(torch.float64)
    offset = 0.1 * torch.exp2(-bias)
    exponent = torch.clamp(nearest_log2(wide.abs() + offset), -bias, 2 ** (width - 1) - 1 - bias)
    return torch.sign(wide + offset) * torch.exp2(exponent)


def log_quantize(x: Tensor, width: int, exponent_bias: int | None = None) -> Tensor:
    bias = -log_exponent_limits(width, exponent_bias)[0]
    return log_quantize_biased(x, width, torch.tensor(float(bias), dtype=torch.float64)).to(x.dtype)


def log_quantizer(x: Tensor, width: int, exponent_bias: int | None = None) -> Tensor:
    return straight_through(log_quantize, x, width=width, exponent_bias=exponent_bias)


@dataclass(frozen=True)
class Log(Quantizer):
    """The ``log`` format: a sign bit and ``width - 1`` exponent bits, biased by ``exponent_bias``."""

    width: int = key(int)
    exponent_bias: int = key(int, None)  # default 2^(width-2) - 1
    name = "log"
    function = log_quantizer
    module_suffix = "Log"
    function_suffix = "log"

    def __post_init__(self) -> None:
        check_width(self.name, self.width, narrowest=2)
        if self.exponent_bias is None:
            self._fill("exponent_bias", default_log_bias(self.width))
        check_float64_span(self.name, self.width, log_exponent_limits(self.width, self.exponent_bias))

    def value_range(self) -> tuple[float, float]:
        return log_range(self.width, self.exponent_bias)

    def precision(self) -> list[int]:
        return [self.width, self.exponent_bias]
