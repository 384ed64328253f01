"""MASE's ``toy_custom_fn`` model: one of every op the quantise pass handles, modules and functions.

MASE uses it to exercise passes, not to classify: a Linear and ReLU in ``seq_blocks``, then the
functional relu, add, mul and sub (each with a tensor and a constant), a Conv2d, a pooled Conv1d,
matmul and bmm. The output is a (1, 100, 100) tensor whatever the dataset. As in MASE, the Conv2d
result is computed and not used further (the op is there for passes to meet). MASE multiplies by
a fixed ``ones(100, 8)``, which only works for batches of 8; here the ones are ``(100, batch)``, so
any batch size runs.

No ``from __future__ import annotations`` here (see ``chop.models.jsc``).
"""

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from chop.models.registry import register_model

INPUT_SHAPE = (1, 2, 2)
HIDDEN = 100  # reshaped to a 10 x 10 image for the Conv2d


@register_model("toy_custom_fn", input_shape=INPUT_SHAPE)
class ToyCustomFnNet(nn.Module):
    """Linear(in→100), ReLU; Conv2d(1→100, 3, same); AdaptiveAvgPool2d(1); Conv1d(1→100, 1)."""

    def __init__(self, info: Any = None) -> None:
        super().__init__()
        self.seq_blocks = nn.Sequential(nn.Linear(math.prod(INPUT_SHAPE), HIDDEN), nn.ReLU())
        self.conv2d = nn.Conv2d(1, HIDDEN, 3, padding="same")
        self.conv1d = nn.Conv1d(1, HIDDEN, 1)
        self.adaptive_pool = nn.AdaptiveAvgPool2d((1, 1))

    def forward(self, x: Tensor) -> Tensor:
        x = self.seq_blocks(torch.flatten(x, start_dim=1))
        x = F.relu(x)
        x = x + x
        x = x + 2
        x = x * x
        x = x * 2
        x = x - x
        x = x - 2
        x = x.view(x.size(0), 1, 10, 10)
        self.conv2d(x)
        x = self.adaptive_pool(x)
        x = x.view(x.size(0), x.size(1), -1)
        x = self.conv1d(x)
        x = x.view(x.size(0), -1)
        x = torch.matmul(torch.ones(HIDDEN, x.size(0)), x)
        x = x.view(1, x.size(0), x.size(1))
        return torch.bmm(x, x)
