"""Shared arithmetic of the two minifloat formats (sign, exponent and mantissa bits).

A value is ``(-1)^s * m * 2^(e - M)`` with ``M = width - 1 - exponent_width`` mantissa bits:
normal numbers carry the hidden bit (``m`` in ``[2^M, 2^(M+1))``), exponent code 0 holds the
subnormals (same scale as the smallest normal binade, no hidden bit). Rounding is to nearest, ties
to an even mantissa, as IEEE 754; magnitudes beyond the largest finite value saturate.
``torch.frexp`` gives the binade exactly, so no ``log2`` rounding can pick the wrong one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from chop.errors import QuantizerError
from chop.quantizers.quantizer import Quantizer, check_float64_span, check_width, key


def default_bias(exponent_width: int) -> int:
    return 2 ** (exponent_width - 1) - 1


def minifloat_limits(width: int, exponent_width: int, exponent_bias: int | None,
                     reserve_top: bool) -> tuple[int, int, float]:
    """(smallest normal exponent, largest exponent, largest finite value)."""
    bias = default_bias(exponent_width) if exponent_bias is None else exponent_bias
    mantissa = width - 1 - exponent_width
    top_code = 2**exponent_width - 1 - (1 if reserve_top else 0)
    exponent_min, exponent_max = 1 - bias, top_code - bias
    return exponent_min, exponent_max, (2 - 2.0**-mantissa) * 2.0**exponent_max


def minifloat_quantize(x: Tensor, width: int, exponent_width: int, exponent_bias: int | Tensor | None,
                       reserve_top: bool) -> Tensor:
    """Nearest minifloat value in ``x``'s dtype; ``exponent_bias`` may be a float64 tensor broadcast
    against ``x`` (``block_minifloat`` gives one bias per block)."""
    bias = default_bias(exponent_width) if exponent_bias is None else exponent_bias
    bias = torch.as_tensor(bias, dtype=torch.float64)
    mantissa = width - 1 - exponent_width
    top_code = 2**exponent_width - 1 - (1 if reserve_top else 0)
    exponent_min, exponent_max = 1 - bias, top_code - bias
    largest = (2 - 2.0**-mantissa) * torch.exp2(exponent_max)
    magnitude = x.abs().to(torch.float64)
    _, binade = torch.frexp(magnitude)  # magnitude = f * 2^binade with f in [0.5, 1)
    exponent = torch.clamp(binade.to(torch.float64) - 1, exponent_min, exponent_max)
    step = torch.exp2(exponent - mantissa)
    rounded = torch.minimum(torch.round(magnitude / step) * step, largest)
    return (torch.sign(x).to(torch.float64) * rounded).to(x.dtype)


def check_exponent_width(exponent_width: int, width: int, lowest: int) -> None:
    """A minifloat keeps a sign and a mantissa bit."""
    if not lowest <= exponent_width <= width - 2:
        raise QuantizerError(f"exponent_width {exponent_width} must lie in [{lowest}, {width - 2}] for width {width}")


@dataclass(frozen=True)
class Minifloat(Quantizer):
    """What the two minifloat formats share: their keys, checks, range and precision."""

    width: int = key(int)
    exponent_width: int = key(int)
    exponent_bias: int = key(int, None)  # default 2^(exponent_width-1) - 1
    reserve_top: ClassVar[bool]  # the top exponent code is inf/NaN (IEEE) rather than values
    lowest_exponent_width: ClassVar[int]

    def __post_init__(self) -> None:
        check_width(self.name, self.width)
        check_exponent_width(self.exponent_width, self.width, self.lowest_exponent_width)
        if self.exponent_bias is None:
            self._fill("exponent_bias", default_bias(self.exponent_width))
        top_code = 2**self.exponent_width - (2 if self.reserve_top else 1)
        mantissa = self.width - 1 - self.exponent_width
        check_float64_span(self.name, self.width, (1 - self.exponent_bias - mantissa, top_code - self.exponent_bias))

    def value_range(self) -> tuple[float, float]:
        largest = minifloat_limits(self.width, self.exponent_width, self.exponent_bias, self.reserve_top)[2]
        return -largest, largest

    def precision(self) -> list[int]:
        return [self.width, self.exponent_width, self.exponent_bias]
