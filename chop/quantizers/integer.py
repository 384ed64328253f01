"""Integer / fixed-point quantiser of the MASE labs (lab-api §6).

``q(x) = clamp(round_half_even(x * 2^f), lo, hi) / 2^f`` with ``[lo, hi] = [-2^(w-1), 2^(w-1) - 1]``
(signed) or ``[0, 2^w - 1]`` (unsigned). Scaling by a power of two, ``torch.round`` (half to even)
and the clamp are exact in float32 for ``w <= 24``, so the values match the integer arithmetic of
the hardware bit for bit.
"""

from __future__ import annotations

import torch
from torch import Tensor

from chop.quantizers.ste import straight_through


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
    return torch.clamp(torch.round(x * scale), lo, hi) / scale


def integer_quantizer(x: Tensor, width: int, frac_width: int | None = None, is_signed: bool = True) -> Tensor:
    """MASE's ``integer_quantizer``: exact fixed-point values forward, identity gradient backward."""
    return straight_through(integer_quantize, x, width=width, frac_width=frac_width, is_signed=is_signed)
