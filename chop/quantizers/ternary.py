"""Ternary quantiser: ``{-1, 0, +1}`` by a threshold on ``|x|``.

``threshold`` defaults to ``0.7 * mean(|x|)`` over the whole tensor, the rule of Ternary Weight
Networks (Li & Liu, 2016); values with ``|x| > threshold`` keep their sign, the rest become 0.
"""

from __future__ import annotations

import torch
from torch import Tensor

from chop.quantizers.ste import straight_through


def ternary_quantize(x: Tensor, threshold: float | None = None) -> Tensor:
    limit = 0.7 * x.abs().mean() if threshold is None else threshold
    return torch.where(x.abs() > limit, torch.sign(x), torch.zeros_like(x))


def ternary_quantizer(x: Tensor, threshold: float | None = None) -> Tensor:
    return straight_through(ternary_quantize, x, threshold=threshold)
