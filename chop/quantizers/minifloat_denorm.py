"""Minifloat with subnormals and no special values: every exponent code is a finite binade.

Keys: ``width``, ``exponent_width``, ``exponent_bias`` (default ``2^(exponent_width-1) - 1``).
It differs from ``minifloat_ieee`` only in using the top exponent code for numbers, which doubles
the range (``minifloat_denorm(8, 4)`` reaches 480); large values saturate, as MASE's does.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from chop.quantizers._minifloat import Minifloat, minifloat_limits, minifloat_quantize
from chop.quantizers.ste import straight_through


def minifloat_denorm_range(width: int, exponent_width: int, exponent_bias: int | None = None) -> tuple[float, float]:
    largest = minifloat_limits(width, exponent_width, exponent_bias, reserve_top=False)[2]
    return -largest, largest


def minifloat_denorm_quantize(x: Tensor, width: int, exponent_width: int, exponent_bias: int | None = None) -> Tensor:
    return minifloat_quantize(x, width, exponent_width, exponent_bias, reserve_top=False)


def minifloat_denorm_quantizer(x: Tensor, width: int, exponent_width: int, exponent_bias: int | None = None) -> Tensor:
    return straight_through(minifloat_denorm_quantize, x, width=width, exponent_width=exponent_width,
                            exponent_bias=exponent_bias)


@dataclass(frozen=True)
class MinifloatDenorm(Minifloat):
    """The ``minifloat_denorm`` format (keys ``width``, ``exponent_width``, ``exponent_bias``)."""

    name = "minifloat_denorm"
    function = minifloat_denorm_quantizer
    module_suffix = "MinifloatDenorm"
    function_suffix = "minifloat_denorm"
    reserve_top = False
    lowest_exponent_width = 1
