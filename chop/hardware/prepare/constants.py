"""Formats for constants that no quantisation entry describes: folded weights, batch-norm scales.

A folded weight ``W * gamma / sqrt(var + eps)`` is not the weight the user's entry was chosen for,
so its format is derived: the entry's width (the cost the user chose), and the largest number of
fraction bits at which no value saturates (the most precision that width allows).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from chop.hardware.fixed import FixedFormat

# The most fraction bits a derived format gets: a constant that needs more (below 2^-64 of scale,
# next to inputs of ordinary range) is as good as zero for a 52-bit accumulator.
MAX_DERIVED_FRAC = 64


def fitting_format(values: Tensor, width: int, signed: bool, fallback_frac: int) -> FixedFormat:
    """The ``width``-bit format with the most fraction bits (at most ``MAX_DERIVED_FRAC``) at which no value
    of ``values`` saturates.

    A negative value makes the format signed whatever ``signed`` says (an unsigned format would
    clamp it). All-zero values fit any frac: ``fallback_frac`` (the entry's) is kept.
    """
    values = values.detach().to(torch.float64)
    signed = signed or bool((values < 0).any())
    largest = float(values.abs().max()) if values.numel() else 0.0
    if largest == 0.0:
        return FixedFormat(width, fallback_frac, signed)
    # 2^width / largest bounds 2^frac from above for either sign; walk down to the first that fits
    frac = min(MAX_DERIVED_FRAC, math.floor(width - math.log2(largest)) + 1)
    while True:
        fmt = FixedFormat(width, frac, signed)
        scaled = torch.round(values * 2.0**frac)
        if bool(((scaled >= fmt.lo) & (scaled <= fmt.hi)).all()):
            return fmt
        frac -= 1


def stored_format(codes: Tensor, frac: int) -> FixedFormat:
    """The narrowest format holding constant ``codes`` at ``frac`` (a bias or shift as the twin stores it)."""
    values = codes.tolist()
    return FixedFormat.holding(min(0, *values), max(0, *values), frac)
