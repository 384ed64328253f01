"""Block logarithmic quantiser (MASE's ``block_log``): ``log`` values with one exponent bias per block.

Keys: ``width`` (a sign bit and ``e = width - 1`` exponent bits), ``exponent_bias_width`` (bits of
the shared bias), ``block_size`` and ``skip_first_dim`` (see ``_blocks``). Per block, with
``blockmax`` its largest ``|x|``::

    bias = clamp(2^e - 1 - ceil(log2(blockmax)), 0, 2^exponent_bias_width - 1)

then every value of the block is ``log``-quantised with that bias, so the block's top power of two
is about its largest value. Zero maps to ``+2^-bias`` as in ``log``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from chop.quantizers._blocks import Blocked, BlockSize, block_max, block_size_key, ceil_log2, skip_first_dim_key
from chop.quantizers.quantizer import check_exponent_bias_width, check_float64_span, check_width, key
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


@dataclass(frozen=True)
class BlockLog(Blocked):
    """The ``block_log`` format: ``log`` values with an ``exponent_bias_width``-bit bias per block."""

    width: int = key(int)
    exponent_bias_width: int = key(int)
    block_size: tuple[int, ...] = block_size_key()
    skip_first_dim: bool = skip_first_dim_key()
    name = "block_log"
    function = block_log_quantizer
    module_suffix = "BlockLog"
    function_suffix = "block_log"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_width(self.name, self.width, narrowest=2)
        check_exponent_bias_width(self.exponent_bias_width)
        check_float64_span(self.name, self.width, (1 - 2**self.exponent_bias_width, 2 ** (self.width - 1) - 1))

    def value_range(self) -> tuple[float, float]:
        return block_log_range(self.width, self.exponent_bias_width)

    def precision(self) -> list[Any]:
        return [self.width, self.exponent_bias_width, self.blocks()]
