"""Straight-through estimator shared by every quantiser.

Forward: the exact quantised values. Backward: the incoming gradient unchanged (identity), so a
network with fake-quantised weights trains its float master weights (QAT). ``generate_vmap_rule``
lets the engine's ``vmap(functional_call)`` path and ``torch.compile`` see through it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor


class _StraightThrough(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor, quantize: Callable[..., Tensor], params: tuple[tuple[str, Any], ...]) -> Tensor:
        return quantize(x, **dict(params))

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
        pass

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        return grad, None, None


def straight_through(quantize: Callable[..., Tensor], x: Tensor, **params: Any) -> Tensor:
    """``quantize(x, **params)`` in the forward pass, identity gradient in the backward pass."""
    return _StraightThrough.apply(x, quantize, tuple(params.items()))
