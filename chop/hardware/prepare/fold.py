"""Batch-norm algebra in float64: a BatchNorm1d in eval mode is a per-channel affine map.

``BN(z) = gamma * (z - mean) / sqrt(var + eps) + beta = scale * z + shift`` with
``scale = gamma / sqrt(var + eps)`` and ``shift = beta - mean * scale``. Next to a linear layer
the affine map merges into its weights: after it, ``scale * (W x + b) + shift``; before it,
``W (scale * x + shift) + b``. Both are again ``W' x + b'``, so the hardware needs no batch-norm
block and no extra rounding where the graph lets the two merge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, fx, nn

from chop.errors import HardwareError


@dataclass(frozen=True)
class Affine:
    """A per-channel ``scale * z + shift`` (float64, one entry per channel)."""

    scale: Tensor
    shift: Tensor


def batch_norm_affine(bn: nn.BatchNorm1d, where: str, gamma: Tensor | None = None,
                      beta: Tensor | None = None) -> Affine:
    """The eval-mode map of ``bn`` (node ``where``); ``gamma``/``beta`` replace its own (the quantised values)."""
    if bn.running_mean is None or bn.running_var is None:
        raise HardwareError(f"node '{where}' (batch_norm1d) keeps no running statistics "
                            f"(track_running_stats=False), so it is no fixed affine map; build it with running statistics")
    channels = bn.num_features
    if gamma is None:
        gamma = bn.weight if bn.weight is not None else torch.ones(channels)
    if beta is None:
        beta = bn.bias if bn.bias is not None else torch.zeros(channels)
    scale = gamma.detach().to(torch.float64) / torch.sqrt(bn.running_var.to(torch.float64) + bn.eps)
    shift = beta.detach().to(torch.float64) - bn.running_mean.to(torch.float64) * scale
    return Affine(scale, shift)


def fold_batch_norms(weight: Tensor, bias: Tensor | None, before: Affine | None = None,
                     after: Affine | None = None) -> tuple[Tensor, Tensor]:
    """``(W', b')`` of ``after(linear(before(x)))`` for a linear ``W`` (out, in), ``b`` (out,), in float64."""
    folded = weight.detach().to(torch.float64)
    offset = (torch.zeros(folded.shape[0], dtype=torch.float64) if bias is None
              else bias.detach().to(torch.float64))
    if before is not None:
        offset = offset + folded @ before.shift
        folded = folded * before.scale.unsqueeze(0)
    if after is not None:
        folded = after.scale.unsqueeze(1) * folded
        offset = after.scale * offset + after.shift
    return folded, offset


@dataclass(frozen=True)
class Fold:
    """Batch norm ``batch_norm`` merges into linear ``linear``, on ``side`` ``"after"`` or ``"before"`` it."""

    batch_norm: fx.Node
    linear: fx.Node
    side: str


def fold_pairs(nodes: list[fx.Node], op_of: Callable[[fx.Node], str], into: tuple[str, ...] = ("linear",)) -> list[Fold]:
    """The batch norms that merge into a neighbouring linear, in graph order.

    After: the batch norm reads a linear that has no other user. Before: a batch norm not folded
    so is read by a linear only. ``op_of`` gives a node's mase op; ``into`` the ops that count as
    a linear (preparation adds ``conv1d``, which it lowers to one; the float folding pass does not).
    """
    after = {}
    for node in nodes:
        source = node.args[0] if op_of(node) == "batch_norm1d" and node.args else None
        if isinstance(source, fx.Node) and op_of(source) in into and len(source.users) == 1:
            after[node] = Fold(node, source, "after")
    before = {}
    for node in nodes:
        users = list(node.users)
        if op_of(node) == "batch_norm1d" and node not in after and len(users) == 1 and op_of(users[0]) in into:
            before[node] = Fold(node, users[0], "before")
    return [after.get(node) or before[node] for node in nodes if node in after or node in before]
