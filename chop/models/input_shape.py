"""The per-sample input shape a model takes: one convention for every layer that feeds a model rows."""

from __future__ import annotations

from torch import nn


def input_shape_of(model: nn.Module, num_features: int) -> tuple[int, ...]:
    """The shape a model declares (``@register_model(input_shape=...)``), else the flat feature vector."""
    return tuple(getattr(model, "input_shape", (num_features,)))
