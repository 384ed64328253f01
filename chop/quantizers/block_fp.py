"""Block floating point (MASE's ``block_fp``, Microsoft's MSFP): a block of values shares one exponent.

Keys: ``width`` (a sign bit and ``width - 1`` mantissa bits), ``exponent_width``, ``exponent_bias``
(default ``2^(exponent_width-1) - 1``), ``block_size`` and ``skip_first_dim`` (see ``_blocks``).
Per block, with ``blockmax`` its largest ``|x|``::

    E = clamp(floor(log2(blockmax)) + 1, -bias, 2^exponent_width - 1 - bias)
    q(x) = sign(x) · clamp(round_half_even(|x| / 2^(E - width + 1)), 0, 2^(width-1) - 1) · 2^(E - width + 1)

Sign and magnitude as MASE's, so the range is symmetric. MASE takes ``ceil(log2(blockmax))``,
the same except where the block max is an exact power of two: there MASE halves the step and
saturates the max itself one step below it, so quantising twice would change the block again;
machop keeps ``q(q(x)) == q(x)``. MASE also adds ``1e-9`` to ``x`` and ``|x|`` before taking the
sign and the mantissa; machop leaves the values exact (ties round half to even).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from chop.errors import QuantizerError
from chop.quantizers._blocks import Blocked, BlockSize, block_max, block_size_key, floor_log2, skip_first_dim_key
from chop.quantizers._minifloat import default_bias
from chop.quantizers.integer import MAX_FIXED_WIDTH
from chop.quantizers.quantizer import check_float64_span, check_width, key
from chop.quantizers.ste import straight_through


def _exponent_limits(exponent_width: int, exponent_bias: int | None) -> tuple[int, int]:
    bias = default_bias(exponent_width) if exponent_bias is None else exponent_bias
    return -bias, 2**exponent_width - 1 - bias


def block_fp_range(width: int, exponent_width: int, exponent_bias: int | None = None, block_size: BlockSize = 16,
                   skip_first_dim: bool = False) -> tuple[float, float]:
    step = 2.0 ** (_exponent_limits(exponent_width, exponent_bias)[1] - width + 1)
    largest = (2 ** (width - 1) - 1) * step
    return -largest, largest


def block_fp_quantize(x: Tensor, width: int, exponent_width: int, exponent_bias: int | None = None,
                      block_size: BlockSize = 16, skip_first_dim: bool = False) -> Tensor:
    exponent_min, exponent_max = _exponent_limits(exponent_width, exponent_bias)
    exponent = torch.clamp(floor_log2(block_max(x, block_size, skip_first_dim)) + 1, exponent_min, exponent_max)
    step = torch.exp2(exponent - (width - 1))
    wide = x.to(torch.float64)
    mantissa = torch.clamp(torch.round(wide.abs() / step), 0, 2 ** (width - 1) - 1)
    return (torch.sign(wide) * mantissa * step).to(x.dtype)


def block_fp_quantizer(x: Tensor, width: int, exponent_width: int, exponent_bias: int | None = None,
                       block_size: BlockSize = 16, skip_first_dim: bool = False) -> Tensor:
    return straight_through(block_fp_quantize, x, width=width, exponent_width=exponent_width,
                            exponent_bias=exponent_bias, block_size=block_size, skip_first_dim=skip_first_dim)


@dataclass(frozen=True)
class BlockFP(Blocked):
    """The ``block_fp`` format: ``width``-bit sign and mantissa, an ``exponent_width``-bit exponent per block."""

    width: int = key(int)
    exponent_width: int = key(int)
    exponent_bias: int = key(int, None)  # default 2^(exponent_width-1) - 1
    block_size: tuple[int, ...] = block_size_key()
    skip_first_dim: bool = skip_first_dim_key()
    name = "block_fp"
    function = block_fp_quantizer
    module_suffix = "BlockFP"
    function_suffix = "block_fp"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_width(self.name, self.width, MAX_FIXED_WIDTH, narrowest=2)
        # the shared exponent is separate from the ``width`` bits
        if self.exponent_width < 1:
            raise QuantizerError(f"exponent_width must be at least 1, got {self.exponent_width}")
        if self.exponent_bias is None:
            self._fill("exponent_bias", default_bias(self.exponent_width))
        bias = self.exponent_bias
        check_float64_span(self.name, self.width, (-bias - self.width + 1, 2**self.exponent_width - 2 - bias))

    def value_range(self) -> tuple[float, float]:
        return block_fp_range(self.width, self.exponent_width, self.exponent_bias)

    def precision(self) -> list[Any]:
        return [self.width, self.exponent_width, self.exponent_bias, self.blocks()]
