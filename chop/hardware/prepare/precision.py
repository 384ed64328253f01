"""Precision propagation: the narrowest accumulator that holds every value a layer can compute.

The weights are constants, so the exact range of each output's sum is known: for inputs anywhere in
the input format's codes ``[lo, hi]``, the term ``w * x`` lies between ``min(w*lo, w*hi)`` and
``max(w*lo, w*hi)``, and a row's sum between the sums of those (each input reaches its bound
independently, so the bounds are attained). The accumulator is the narrowest format holding the
widest row; nothing can overflow, whatever the input. Bounds are Python integers (exact at any width).
"""

from __future__ import annotations

from torch import Tensor

from chop.errors import HardwareError
from chop.hardware.fixed import MAX_ACCUMULATOR_WIDTH, FixedFormat


def linear_bounds(weight: Tensor, bias: Tensor, in_format: FixedFormat, shift: int) -> tuple[int, int]:
    """Smallest and largest ``(sum_j x_j * w_rj << shift) + b_r`` over all rows ``r`` and input codes ``x``."""
    lows, highs = [], []
    for row, offset in zip(weight.tolist(), bias.tolist()):
        low = sum(min(w * in_format.lo, w * in_format.hi) for w in row)
        high = sum(max(w * in_format.lo, w * in_format.hi) for w in row)
        lows.append((low << shift) + offset)
        highs.append((high << shift) + offset)
    return min(lows), max(highs)


def affine_bounds(scale: Tensor, shift_codes: Tensor, in_format: FixedFormat, shift: int) -> tuple[int, int]:
    """Smallest and largest ``(x * scale_c << shift) + shift_c`` over all channels ``c`` and input codes ``x``."""
    return linear_bounds(scale.unsqueeze(1), shift_codes, in_format, shift)


def add_bounds(a_format: FixedFormat, b_format: FixedFormat, frac: int) -> tuple[int, int]:
    """Smallest and largest ``a + b``, both moved to ``frac`` fraction bits."""
    a_shift, b_shift = frac - a_format.frac, frac - b_format.frac
    return (a_format.lo << a_shift) + (b_format.lo << b_shift), (a_format.hi << a_shift) + (b_format.hi << b_shift)


def needed_width(lo: int, hi: int) -> int:
    """Bits of the narrowest format (signed where ``lo < 0``) whose codes include ``[lo, hi]``."""
    if lo < 0:
        return 1 + max(hi.bit_length() if hi > 0 else 0, (-lo - 1).bit_length())
    return max(1, hi.bit_length())


def accumulator_format(where: str, lo: int, hi: int, frac: int) -> FixedFormat:
    """The accumulator of node ``where`` (``"node 'fc' (linear)"``) for codes ``[lo, hi]`` at ``frac``."""
    width = needed_width(lo, hi)
    if width > MAX_ACCUMULATOR_WIDTH:
        raise HardwareError(f"{where}: the accumulator needs {width} bits (codes {lo}..{hi}), more than the "
                            f"{MAX_ACCUMULATOR_WIDTH} the integer reference computes exactly; "
                            f"use narrower weights or inputs")
    return FixedFormat(width, frac, lo < 0)
