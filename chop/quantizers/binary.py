"""Binary (bipolar) quantiser: ``+1`` for ``x >= 0``, ``-1`` otherwise (BinaryConnect / XNOR style)."""

from __future__ import annotations

import torch
from torch import Tensor

from chop.quantizers.ste import straight_through


def binary_quantize(x: Tensor) -> Tensor:
    return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))


def binary_quantizer(x: Tensor) -> Tensor:
    return straight_through(binary_quantize, x)
