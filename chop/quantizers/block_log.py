"""Block logarithmic quantiser (MASE's ``block_log``): ``log`` values with one exponent bias per block.

Keys: ``width`` (a sign bit and ``e = width - 1`` exponent bits), ``exponent_bias_width`` (bits of
the shared bias), ``block_size`` and ``skip_first_dim`` (see ``_blocks``). Per block, with
``blockmax`` its largest ``|x|``::

    bias = clamp(2^e - 1 - ceil(log2(blockmax)), 0, 2^exponent_bias_width - 1)

then every value of the block is ``log``-quantised with that bias, so the block's top power of two
is about its largest value. Zero maps to ``+2^-bias`` as in ``log``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from chop.quantizers._blocks import BlockSize, block_max, ceil_log2
from chop.quantizers.log import log_quantize_biased
from chop.quantizers.ste import straight_through


def block_log_range(width: int, exponent_bias_width: int, block_size: BlockSize = 16,
                    skip_first_dim: bool = False) -> tuple[float, float]:
    """Largest magnitude over every bias a block can take (bias 0): ``2^(2^(width-1) - 1)``."""
    largest = 2.0 ** (2 ** (width - 1) - 1)
    return -largest, largest


def block_log_quantize(x: Tensor, width: int, exponent_bias_width: int, block_size: BlockSize = 16,
                       skip_first_dim: bool = False) -> Tensor:
    top = 2 ** (width - 1) - 1
    bias = torch.clamp(top - ceil_log2(block_max(x, block_size, skip_first_dim)), 0, 2**exponent_bias_width - 1)
    return log_quantize_biased(x, width, bias).to(x.dtype)


def block_log_quantizer(x: Tensor, width: int, exponent_bias_width: int, block_size: BlockSize = 16,
                        skip_first_dim: bool = False) -> Tensor:
    return straight_through(block_log_quantize, x, width=width, exponent_bias_width=exponent_bias_width,
                            block_size=block_size, skip_first_dim=skip_first_dim)
