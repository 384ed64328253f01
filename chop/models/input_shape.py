"""The per-sample input shape a model takes: one convention for every layer that feeds a model rows.

A model declares its shape (batch dimension excluded) in one of two ways:

- its registry entry, ``@register_model(name, input_shape=...)`` (the class itself is left alone);
- an ``input_shape`` attribute: a class in the user's own file, or a traced ``GraphModule``, which
  carries the shape of the model it was traced from (and keeps it in a saved ``.mz`` graph).

A model that declares nothing takes the flat feature vector ``(num_features,)``; where no dataset
says how many features there are, ``DEFAULT_NUM_FEATURES`` (the 16 jet-substructure features).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

DEFAULT_NUM_FEATURES = 16


def declared_input_shape(model: nn.Module) -> tuple[int, ...] | None:
    """The shape ``model`` declares (its attribute first, then its class's registry entry), or None."""
    shape = getattr(model, "input_shape", None)
    if shape is not None:
        return tuple(shape)
    from chop.models.registry import registered_info

    info = registered_info(type(model))
    return info.input_shape if info is not None else None


def input_shape_of(model: nn.Module, num_features: int = DEFAULT_NUM_FEATURES) -> tuple[int, ...]:
    """The shape ``model`` declares, else the flat feature vector ``(num_features,)``."""
    return declared_input_shape(model) or (num_features,)


def example_batch(model: nn.Module, rows: Any = None) -> Tensor | None:
    """A batch ``model`` takes: feature ``rows`` (N, F) reshaped to ``(N, *input_shape)``, or, without
    rows, a seeded random batch of one of the shape the model declares (None if it declares none)."""
    if rows is None:
        shape = declared_input_shape(model)
        return None if shape is None else torch.randn((1, *shape), generator=torch.Generator().manual_seed(0))
    batch = torch.as_tensor(rows, dtype=torch.float32)
    return batch.reshape(len(batch), *input_shape_of(model, batch.shape[1]))
