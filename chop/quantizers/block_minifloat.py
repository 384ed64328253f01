"""Block minifloat (MASE's ``block_minifloat``): ``minifloat_ieee`` values with one exponent bias per block.

Keys: ``width``, ``exponent_width``, ``exponent_bias_width`` (bits of the shared bias),
``block_size`` and ``skip_first_dim`` (see ``_blocks``). Per block, with ``blockmax`` its largest
``|x|``::

    bias = clamp(floor(log2(blockmax)), 0, 2^exponent_bias_width - 1)

then every value of the block is ``minifloat_ieee(width, exponent_width, bias)`` (hidden bit,
subnormals, top exponent code reserved, saturating), exactly as MASE's formula reads.
"""

from __future__ import annotations

import torch
from torch import Tensor

from chop.quantizers._blocks import BlockSize, block_max, floor_log2
from chop.quantizers._minifloat import minifloat_limits, minifloat_quantize
from chop.quantizers.ste import straight_through


def block_minifloat_range(width: int, exponent_width: int, exponent_bias_width: int, block_size: BlockSize = 16,
                          skip_first_dim: bool = False) -> tuple[float, float]:
    """Largest magnitude over every bias a block can take (bias 0)."""
    largest = minifloat_limits(width, exponent_width, 0, reserve_top=True)[2]
    return -largest, largest


def block_minifloat_quantize(x: Tensor, width: int, exponent_width: int, exponent_bias_width: int,
                             block_size: BlockSize = 16, skip_first_dim: bool = False) -> Tensor:
    bias = torch.clamp(floor_log2(block_max(x, block_size, skip_first_dim)), 0, 2**exponent_bias_width - 1)
    return minifloat_quantize(x, width, exponent_width, bias, reserve_top=True)


def block_minifloat_quantizer(x: Tensor, width: int, exponent_width: int, exponent_bias_width: int,
                              block_size: BlockSize = 16, skip_first_dim: bool = False) -> Tensor:
    return straight_through(block_minifloat_quantize, x, width=width, exponent_width=exponent_width,
                            exponent_bias_width=exponent_bias_width, block_size=block_size,
                            skip_first_dim=skip_first_dim)
