"""What the export and import tests share: the integer 8/4 and 4-bit-weight points, the passes table, fresh zoo models."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from chop.models import get_model

INTEGER_8_4 = {"name": "integer", "data_in_width": 8, "data_in_frac_width": 4, "weight_width": 8,
               "weight_frac_width": 4, "bias_width": 8, "bias_frac_width": 4}
WEIGHTS_4 = {**INTEGER_8_4, "weight_width": 4, "weight_frac_width": 3}
MINIFLOAT = {"name": "minifloat_ieee", "data_in_width": 8, "data_in_exponent_width": 4, "weight_width": 8,
             "weight_exponent_width": 4, "bias_width": 8, "bias_exponent_width": 4}
"""A format with no fixed-point twin, which every export refuses."""


def quantise(config: dict[str, Any]) -> dict[str, Any]:
    """The ``passes`` of a TOML that quantises every node with ``config``."""
    return {"quantize": {"by": "type", "default": {"config": config}}}


def fresh(name: str) -> nn.Module:
    """A zoo model with seeded untrained weights."""
    torch.manual_seed(0)
    return get_model(name)


class WithSigmoid(nn.Module):
    """A linear then a sigmoid: an op with no fixed-point twin, which every export refuses."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(16, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.fc(x))
