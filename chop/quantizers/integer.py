"""Integer / fixed-point quantiser of the MASE labs (lab-api §6).

``q(x) = clamp(round_half_even(x * 2^f), lo, hi) / 2^f`` with ``[lo, hi] = [-2^(w-1), 2^(w-1) - 1]``
(signed) or ``[0, 2^w - 1]`` (unsigned). Scaling by a power of two, ``torch.round`` (half to even)
and the clamp are exact in a float dtype whose significand holds ``w`` bits (float32: ``w <= 24``);
wider formats (up to ``MAX_FIXED_WIDTH``) are computed in float64, where they are exact, and
returned in the input's dtype, so the values match the hardware's integer arithmetic bit for bit
(rounded once to float32 where float32 cannot hold them). A negative ``f`` is a step of ``2^|f|``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from chop.errors import QuantizerError
from chop.quantizers.quantizer import Quantizer, check_width, key
from chop.quantizers.ste import straight_through

MAX_FIXED_WIDTH = 52  # float64 holds every integer of up to 53 bits; ap_fixed's WRAP needs one to spare
MAX_INT_WIDTH = 1024  # 2^(I-1), the largest magnitude of a fixed-point type, stays a finite float64


def exact_dtype(dtype: torch.dtype, width: int) -> torch.dtype:
    """``dtype`` if its significand holds ``width``-bit integers exactly, else float64."""
    # eps = 2^-(stored significand bits); one more bit is hidden
    exact = dtype.is_floating_point and width <= 1 - math.log2(torch.finfo(dtype).eps)
    return dtype if exact else torch.float64


def integer_range(width: int, frac_width: int | None = None, is_signed: bool = True) -> tuple[float, float]:
    """Smallest and largest representable value (what values beyond are clamped to)."""
    frac = width // 2 if frac_width is None else frac_width
    lo, hi = (-(2 ** (width - 1)), 2 ** (width - 1) - 1) if is_signed else (0, 2**width - 1)
    return lo / 2.0**frac, hi / 2.0**frac


def integer_quantize(x: Tensor, width: int, frac_width: int | None = None, is_signed: bool = True) -> Tensor:
    """The quantised values, without gradient handling (``frac_width`` defaults to ``width // 2``)."""
    frac = width // 2 if frac_width is None else frac_width
    lo, hi = (-(2 ** (width - 1)), 2 ** (width - 1) - 1) if is_signed else (0, 2**width - 1)
    scale = 2.0**frac
    wide = x.to(exact_dtype(x.dtype, width))
    return (torch.clamp(torch.round(wide * scale), lo, hi) / scale).to(x.dtype)


def integer_quantizer(x: Tensor, width: int, frac_width: int | None = None, is_signed: bool = True) -> Tensor:
    """MASE's ``integer_quantizer``: exact fixed-point values forward, identity gradient backward."""
    return straight_through(integer_quantize, x, width=width, frac_width=frac_width, is_signed=is_signed)


@dataclass(frozen=True)
class Integer(Quantizer):
    """MASE's ``integer`` format: ``width`` bits, ``frac_width`` of them below the binary point."""

    width: int = key(int)
    frac_width: int = key(int, None)  # MASE's default: width // 2
    signed: bool = True
    name = "integer"
    function = integer_quantizer
    module_suffix = "Integer"
    function_suffix = "integer"

    def __post_init__(self) -> None:
        check_width(self.name, self.width, MAX_FIXED_WIDTH)
        if self.frac_width is None:
            self._fill("frac_width", self.width // 2)
        # a negative frac width is a coarser grid (a step of 2^|f|), as ap_fixed<W,I> with I > W
        if self.frac_width > self.width:
            raise QuantizerError(f"frac_width {self.frac_width} is larger than width {self.width}")
        if self.width - self.frac_width > MAX_INT_WIDTH:
            raise QuantizerError(f"frac_width {self.frac_width} is below {self.width - MAX_INT_WIDTH}: the largest "
                                 f"value 2^(width-1-frac_width) would not be a finite float64")

    def value_range(self) -> tuple[float, float]:
        return integer_range(self.width, self.frac_width, self.signed)

    def step(self) -> float:
        return 2.0**-self.frac_width

    def precision(self) -> list[int]:
        return [self.width, self.frac_width]


@dataclass(frozen=True)
class Fixed(Integer):
    """MASE's ``fixed``: another name for ``integer`` (same values, same twins)."""

    name = "fixed"
