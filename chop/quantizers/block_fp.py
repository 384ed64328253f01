"""Block floating point: blocks of ``block_size`` values along the last dimension share one exponent.

Per block, the shared exponent is ``e = clamp(floor(log2(max |x|)), -bias, 2^exponent_width - 1 - bias)``
(``exponent_bias`` defaults to ``2^(exponent_width-1) - 1``); each value is then a signed
``width``-bit integer mantissa times ``2^(e - width + 2)``, rounded half to even and saturated, so
the block's largest magnitude keeps ``width - 1`` significant bits. A last, shorter block is allowed.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from chop.quantizers._minifloat import default_bias
from chop.quantizers.ste import straight_through


def _exponent_limits(exponent_width: int, exponent_bias: int | None) -> tuple[int, int]:
    bias = default_bias(exponent_width) if exponent_bias is None else exponent_bias
    return -bias, 2**exponent_width - 1 - bias


def block_fp_range(width: int, exponent_width: int, exponent_bias: int | None = None,
                   block_size: int = 16) -> tuple[float, float]:
    exponent_max = _exponent_limits(exponent_width, exponent_bias)[1]
    step = 2.0 ** (exponent_max - width + 2)
    return -(2 ** (width - 1)) * step, (2 ** (width - 1) - 1) * step


def block_fp_quantize(x: Tensor, width: int, exponent_width: int, exponent_bias: int | None = None,
                      block_size: int = 16) -> Tensor:
    exponent_min, exponent_max = _exponent_limits(exponent_width, exponent_bias)
    shape = x.shape
    flat = x.to(torch.float64).reshape(-1, shape[-1]) if x.dim() > 0 else x.to(torch.float64).reshape(1, 1)
    length = flat.shape[-1]
    padded = F.pad(flat, (0, (-length) % block_size))
    blocks = padded.reshape(flat.shape[0], -1, block_size)
    _, binade = torch.frexp(blocks.abs().amax(dim=-1, keepdim=True))
    exponent = torch.clamp(binade.to(torch.float64) - 1, exponent_min, exponent_max)
    step = torch.exp2(exponent - (width - 2))
    mantissa = torch.clamp(torch.round(blocks / step), -(2 ** (width - 1)), 2 ** (width - 1) - 1)
    quantized = (mantissa * step).reshape(flat.shape[0], -1)[:, :length]
    return quantized.reshape(shape).to(x.dtype)


def block_fp_quantizer(x: Tensor, width: int, exponent_width: int, exponent_bias: int | None = None,
                       block_size: int = 16) -> Tensor:
    return straight_through(block_fp_quantize, x, width=width, exponent_width=exponent_width,
                            exponent_bias=exponent_bias, block_size=block_size)
