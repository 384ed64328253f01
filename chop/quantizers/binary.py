"""Binary quantiser (lab-api §6): ``{-1, +1}`` (bipolar) or ``{0, 1}``, deterministic or stochastic.

Deterministic: ``+1`` where ``x >= 0``, else ``-1`` (bipolar) or ``0``. Stochastic (BinaryConnect,
Courbariaux et al. 2015): ``p = clamp((x + 1) / 2, 0, 1)``, then ``+1`` with probability ``p``. The
random draws come from a ``torch.Generator`` seeded with ``seed`` on every call, so a run is
reproducible and no global random state is read or moved: the same seed and the same tensor shape
give the same draws, call after call.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from chop.quantizers.quantizer import Quantizer, key
from chop.quantizers.ste import straight_through


def _draws(x: Tensor, seed: int) -> Tensor:
    """Uniform [0, 1) draws shaped like ``x``, from a generator of their own seeded with ``seed``."""
    generator = torch.Generator(device=x.device).manual_seed(seed)
    return torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)


def binary_quantize(x: Tensor, stochastic: bool = False, bipolar: bool = True, seed: int = 0) -> Tensor:
    """The binarised values, without gradient handling."""
    if stochastic:
        probability = torch.clamp((x + 1) / 2, 0, 1)
        high = _draws(x, seed) < probability
    else:
        high = x >= 0
    low = -torch.ones_like(x) if bipolar else torch.zeros_like(x)
    return torch.where(high, torch.ones_like(x), low)


def binary_quantizer(x: Tensor, stochastic: bool = False, bipolar: bool = True, seed: int = 0) -> Tensor:
    """MASE's ``binary_quantizer``: binarised values forward, identity gradient backward."""
    return straight_through(binary_quantize, x, stochastic=stochastic, bipolar=bipolar, seed=seed)


@dataclass(frozen=True)
class Binary(Quantizer):
    """The ``binary`` format: one bit, never clamped (every value maps to one of the two)."""

    stochastic: bool = key(bool, False)
    bipolar: bool = key(bool, True)
    seed: int = key(int, 0)
    name = "binary"
    function = binary_quantizer
    module_suffix = "Binary"
    function_suffix = "binary"

    def precision(self) -> list[int]:
        return [1]
