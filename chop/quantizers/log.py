"""Logarithmic (power-of-two) quantiser: a sign bit and ``width - 1`` exponent bits.

Values are ``±2^e`` with ``e`` in ``[-bias, 2^(width-1) - 1 - bias]`` (``exponent_bias`` defaults to
``2^(width-2) - 1``). ``e`` is the nearest exponent in the log domain: ``|x|`` rounds up from
``2^k`` when ``|x| >= 2^k * sqrt(2)``, decided exactly as ``|x|^2 >= 2^(2k+1)`` in float64. Magnitudes
outside the range clamp to its ends; zero stays zero (a reserved code), so a multiplier by a
quantised weight of zero is skipped, as shift-add hardware does.
"""

from __future__ import annotations

import torch
from torch import Tensor

from chop.quantizers.ste import straight_through


def _exponent_limits(width: int, exponent_bias: int | None) -> tuple[int, int]:
    bias = 2 ** (width - 2) - 1 if exponent_bias is None else exponent_bias
    return -bias, 2 ** (width - 1) - 1 - bias


def log_range(width: int, exponent_bias: int | None = None) -> tuple[float, float]:
    largest = 2.0 ** _exponent_limits(width, exponent_bias)[1]
    return -largest, largest


def log_quantize(x: Tensor, width: int, exponent_bias: int | None = None) -> Tensor:
    exponent_min, exponent_max = _exponent_limits(width, exponent_bias)
    magnitude = x.abs().to(torch.float64)
    _, binade = torch.frexp(magnitude)
    lower = binade.to(torch.float64) - 1  # magnitude in [2^lower, 2^(lower+1))
    exponent = torch.where(magnitude * magnitude >= torch.exp2(2 * lower + 1), lower + 1, lower)
    value = torch.exp2(torch.clamp(exponent, exponent_min, exponent_max))
    return (torch.sign(x).to(torch.float64) * value).to(x.dtype)


def log_quantizer(x: Tensor, width: int, exponent_bias: int | None = None) -> Tensor:
    return straight_through(log_quantize, x, width=width, exponent_bias=exponent_bias)
