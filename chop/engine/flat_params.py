"""The flat parameter layout: the parameters of K models of one architecture as one ``(K, P)`` tensor.

With every parameter in one tensor the optimiser update is a handful of ops whatever the depth
(``flat_optimizer.py``); both vectorised paths (stacked and vmap) keep their weights this way and
view slices of it as per-parameter ``(K, *shape)`` tensors when a layer needs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

Tensors = dict[str, Tensor]


@dataclass(frozen=True)
class ParamLayout:
    """Where each parameter of one architecture sits in the flat ``(K, P)`` tensor of K models."""

    param_names: tuple[str, ...]   # in ``model.named_parameters()`` order (= torch.optim's order)
    param_shapes: tuple[tuple[int, ...], ...]

    @classmethod
    def of(cls, model: nn.Module) -> ParamLayout:
        named = list(model.named_parameters())
        return cls(tuple(name for name, _ in named), tuple(tuple(p.shape) for _, p in named))

    @property
    def slices(self) -> list[tuple[str, int, int, tuple[int, ...]]]:
        """``(name, start, stop, shape)`` of each parameter inside the flat ``(K, P)`` tensor."""
        out, start = [], 0
        for name, shape in zip(self.param_names, self.param_shapes):
            size = int(torch.Size(shape).numel())
            out.append((name, start, start + size, shape))
            start += size
        return out


def stack(models: Sequence[nn.Module], names: Sequence[str], device: torch.device) -> Tensors:
    """``{name: (K, ...)}`` copies of the named parameters/buffers of K models."""
    tables = [dict(m.named_parameters()) | dict(m.named_buffers()) for m in models]
    return {name: torch.stack([t[name].detach().float() for t in tables]).to(device).contiguous()
            for name in names}


def flatten(layout: ParamLayout, tensors: Tensors) -> Tensor:
    """Per-parameter ``(K, ...)`` tensors → one ``(K, P)`` tensor in ``layout.param_names`` order."""
    return torch.cat([tensors[name].reshape(tensors[name].shape[0], -1) for name in layout.param_names],
                     1).contiguous()


def unflatten(layout: ParamLayout, flat: Tensor) -> Tensors:
    """Views of ``(K, P)`` as ``{name: (K, *shape)}``."""
    return {name: flat[:, start:stop].view(flat.shape[0], *shape) for name, start, stop, shape in layout.slices}


def unstack_into(models: Sequence[nn.Module], tensors: Tensors) -> None:
    """Copy stacked tensors back into the K modules (in place, on their own devices)."""
    with torch.no_grad():
        for k, model in enumerate(models):
            table = dict(model.named_parameters()) | dict(model.named_buffers())
            for name, value in tensors.items():
                table[name].copy_(value[k])
