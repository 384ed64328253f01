"""Blocks as MASE's block formats (``block_fp``, ``block_log``, ``block_minifloat``) compute them.

``block_size`` is an int or a list of ints, right-aligned to the tensor's dims: a missing leading
dim, a block dim of -1 or one larger than the tensor's dim means the whole dim; a list longer
than the tensor keeps its last entries. With ``skip_first_dim`` (MASE's default for ``data_in``)
the first dim's block is 1, so blocks never mix samples. The tensor is zero-padded to whole
blocks; each block's scale comes from its max ``|x|``. An all-zero block takes the smallest
non-zero block max of the tensor (1 if every block is zero), so no scale is ``log2(0)``.

Rather than reshaping into blocks and back, ``block_max`` returns, for every element, the max of
its block: the formats then apply their formula element by element with a per-element bias.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from chop.quantizers.quantizer import Quantizer, key

BlockSize = int | Sequence[int]


def block_shape(shape: Sequence[int], block_size: BlockSize, skip_first_dim: bool) -> tuple[int, ...]:
    """The block's extent in every dim of a tensor of ``shape`` (MASE's right-aligned inference)."""
    sizes = [block_size] if isinstance(block_size, int) else list(block_size)
    ndim = len(shape)
    aligned = sizes[len(sizes) - ndim:] if len(sizes) >= ndim else [-1] * (ndim - len(sizes)) + sizes
    dims = [dim if size == -1 or size > dim else size for dim, size in zip(shape, aligned)]
    if skip_first_dim and dims:
        dims[0] = 1
    return tuple(dims)


def block_max(x: Tensor, block_size: BlockSize, skip_first_dim: bool) -> Tensor:
    """Per element, the max ``|x|`` of its block in float64 (never 0: the all-zero rule applied)."""
    magnitude = x.detach().abs().to(torch.float64)
    if magnitude.numel() == 0:
        return magnitude
    if magnitude.dim() == 0:
        magnitude = magnitude.reshape(1)
    shape = tuple(magnitude.shape)
    blocks = block_shape(shape, block_size, skip_first_dim)
    padding = [(-d) % b for d, b in zip(shape, blocks)]
    padded = F.pad(magnitude, [side for pad in reversed(padding) for side in (0, pad)])
    counts = [(d + p) // b for d, p, b in zip(shape, padding, blocks)]
    split = padded.reshape([n for pair in zip(counts, blocks) for n in pair])  # (n0, b0, n1, b1, ...)
    maxes = split.amax(dim=tuple(range(1, 2 * len(shape), 2)), keepdim=True)
    smallest = torch.where(maxes > 0, maxes, torch.inf).amin()
    fill = torch.where(torch.isinf(smallest), torch.ones_like(smallest), smallest)
    maxes = torch.where(maxes > 0, maxes, fill)
    spread = maxes.expand(split.shape).reshape(padded.shape)
    return spread[tuple(slice(0, d) for d in shape)].reshape(x.shape)


def ceil_log2(value: Tensor) -> Tensor:
    """Exact ``ceil(log2(value))`` for positive float64 values (``frexp`` gives the binade exactly)."""
    fraction, exponent = torch.frexp(value)  # value = fraction * 2^exponent, fraction in [0.5, 1)
    return exponent.to(torch.float64) - (fraction == 0.5).to(torch.float64)


def floor_log2(value: Tensor) -> Tensor:
    """Exact ``floor(log2(value))`` for positive float64 values."""
    return torch.frexp(value)[1].to(torch.float64) - 1



def _skips_batch_dim(operand: str) -> bool:
    """MASE's modules block ``data_in`` per sample and weights and biases over all their dims."""
    return operand == "data_in"


def block_size_key() -> Any:
    """``block_size``: MASE's default block is 16 along the last dim."""
    return key(tuple, (16,))


def skip_first_dim_key() -> Any:
    """``skip_first_dim``: unless told, ``data_in`` blocks skip the batch dim."""
    return key(bool, None, operand_default=_skips_batch_dim)


@dataclass(frozen=True)
class Blocked(Quantizer):
    """What the block formats share; each declares ``block_size`` and ``skip_first_dim`` last, as MASE orders them."""

    def __post_init__(self) -> None:
        if self.skip_first_dim is None:
            self._fill("skip_first_dim", False)

    def blocks(self) -> list[int]:
        """The block size as the metadata lists it."""
        return list(self.block_size)
