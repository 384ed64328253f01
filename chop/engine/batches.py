"""Batch order without a DataLoader: one seeded permutation per epoch, sliced into batches.

Each epoch's permutation depends only on (seed, epoch), so a resumed run sees the same batches as
an uninterrupted one. A final batch of a single row (after full batches of more than one) is
skipped: BatchNorm cannot train on it.
"""

from __future__ import annotations

import torch

_EPOCH_STRIDE = 1_000_003


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    generator = torch.Generator()
    generator.manual_seed((seed * _EPOCH_STRIDE + epoch) % (2**63 - 1))
    return generator


def epoch_permutation(num_rows: int, seed: int, epoch: int) -> torch.Tensor:
    """The row order of ``epoch`` for a stream seeded with ``seed`` (int64, on the CPU)."""
    return torch.randperm(num_rows, generator=epoch_generator(seed, epoch))


def batch_bounds(num_rows: int, batch_size: int) -> list[tuple[int, int]]:
    """``[start, stop)`` of every batch: the last one may be short, but never a single row."""
    bounds = [(start, min(start + batch_size, num_rows)) for start in range(0, num_rows, batch_size)]
    if batch_size > 1 and num_rows > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds.pop()
    return bounds


def epoch_order(num_rows: int, seeds: list[int], shared: bool, order_seed: int, epoch: int,
                device: torch.device) -> torch.Tensor:
    """Row indices for one epoch: shape ``(1, N)`` for a shared order, ``(K, N)`` for one per model."""
    if shared:
        return epoch_permutation(num_rows, order_seed, epoch).unsqueeze(0).to(device)
    return torch.stack([epoch_permutation(num_rows, seed, epoch) for seed in seeds]).to(device)
