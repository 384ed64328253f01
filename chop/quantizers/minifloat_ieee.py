"""IEEE-754-style minifloat: hidden bit, subnormals, the top exponent code reserved for inf/NaN.

Keys: ``width``, ``exponent_width``, ``exponent_bias`` (default ``2^(exponent_width-1) - 1``).
``minifloat_ieee(8, 4)`` is IEEE-like E4M3 with a largest finite value of 240; overflow saturates
instead of producing infinity (a fake quantiser must keep the loss finite).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from chop.quantizers._minifloat import Minifloat, minifloat_limits, minifloat_quantize
from chop.quantizers.ste import straight_through


def minifloat_ieee_range(width: int, exponent_width: int, exponent_bias: int | None = None) -> tuple[float, float]:
    largest = minifloat_limits(width, exponent_width, exponent_bias, reserve_top=True)[2]
    return -largest, largest


def minifloat_ieee_quantize(x: Tensor, width: int, exponent_width: int, exponent_bias: int | None = None) -> Tensor:
    return minifloat_quantize(x, width, exponent_width, exponent_bias, reserve_top=True)


def minifloat_ieee_quantizer(x: Tensor, width: int, exponent_width: int, exponent_bias: int | None = None) -> Tensor:
    return straight_through(minifloat_ieee_quantize, x, width=width, exponent_width=exponent_width,
                            exponent_bias=exponent_bias)


@dataclass(frozen=True)
class MinifloatIEEE(Minifloat):
    """The ``minifloat_ieee`` format (keys ``width``, ``exponent_width``, ``exponent_bias``)."""

    name = "minifloat_ieee"
    function = minifloat_ieee_quantizer
    module_suffix = "MinifloatIEEE"
    function_suffix = "minifloat_ieee"
    reserve_top = True
    lowest_exponent_width = 2
