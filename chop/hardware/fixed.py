"""``FixedFormat``: the one fixed-point semantics that the software reference and the RTL share.

A value ``v`` of format (width ``w``, fraction bits ``f``, signed or not) is the integer code
``c = v * 2^f`` with ``c`` in ``[-2^(w-1), 2^(w-1) - 1]`` (signed) or ``[0, 2^w - 1]``. Turning a
real number or a wider code into the format rounds half to even on the dropped bits and
saturates, exactly as machop's ``integer`` quantiser does (lab-api §6), so a hardware twin that
requantises its accumulator agrees bit for bit with the fake-quantised PyTorch model.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from chop.errors import HardwareError
from chop.quantizers import Quantizer
from chop.quantizers.integer import MAX_FIXED_WIDTH, Integer

# Widest accumulator the integer reference (int64) and the fake-quantised twins (float64, whose
# significand holds 53 bits) both compute exactly.
MAX_ACCUMULATOR_WIDTH = MAX_FIXED_WIDTH


@dataclass(frozen=True)
class FixedFormat:
    """``width`` bits of which ``frac`` lie below the binary point (``frac`` may be negative or exceed width)."""

    width: int
    frac: int
    signed: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.width <= MAX_ACCUMULATOR_WIDTH:
            raise HardwareError(f"fixed-point width {self.width} is outside 1..{MAX_ACCUMULATOR_WIDTH}, the widths "
                                f"the integer reference computes exactly")

    @classmethod
    def of_quantizer(cls, quantizer: Quantizer, where: str) -> FixedFormat:
        """The format of an ``integer``/``fixed`` quantiser; ``where`` names the node and operand for errors."""
        if not isinstance(quantizer, Integer):
            raise HardwareError(f"{where}: format '{quantizer.name}' has no fixed-point hardware twin; "
                                f"quantise it with name = \"integer\" (width, frac_width)")
        return cls(quantizer.width, quantizer.frac_width, quantizer.signed)

    @classmethod
    def holding(cls, lo: int, hi: int, frac: int) -> FixedFormat:
        """The narrowest format at ``frac`` whose codes include every integer in ``[lo, hi]``."""
        signed = lo < 0
        width = 1
        while True:
            fmt = cls(width, frac, signed) if width <= MAX_ACCUMULATOR_WIDTH else None
            if fmt is None:
                raise HardwareError(f"an accumulator for codes {lo}..{hi} needs more than {MAX_ACCUMULATOR_WIDTH} "
                                    f"bits; use narrower weights or inputs")
            if fmt.lo <= lo and hi <= fmt.hi:
                return fmt
            width += 1

    @property
    def lo(self) -> int:
        return -(2 ** (self.width - 1)) if self.signed else 0

    @property
    def hi(self) -> int:
        return 2 ** (self.width - 1) - 1 if self.signed else 2**self.width - 1

    @property
    def step(self) -> float:
        return 2.0**-self.frac

    def quantize(self, x: Tensor) -> Tensor:
        """Codes (int64) of real values: round half to even, saturate."""
        scaled = torch.round(x.to(torch.float64) * 2.0**self.frac)
        return torch.clamp(scaled, self.lo, self.hi).to(torch.int64)

    def fake(self, x: Tensor) -> Tensor:
        """Real values (float64) on this format's grid: what the fake-quantised twin computes."""
        return torch.clamp(torch.round(x.to(torch.float64) * 2.0**self.frac), self.lo, self.hi) * 2.0**-self.frac

    def requantize(self, codes: Tensor, frac: int) -> Tensor:
        """Codes of this format from int64 ``codes`` with ``frac`` fraction bits (exact integer arithmetic)."""
        shift = frac - self.frac
        if shift <= 0:
            moved = codes << -shift
        else:
            floor = codes >> shift  # arithmetic shift: floor division by 2^shift
            rest = codes - (floor << shift)
            half = 1 << (shift - 1)
            up = (rest > half) | ((rest == half) & (floor % 2 == 1))
            moved = floor + up.to(torch.int64)
        return torch.clamp(moved, self.lo, self.hi)

    def to_real(self, codes: Tensor) -> Tensor:
        return codes.to(torch.float64) * 2.0**-self.frac

    def as_list(self) -> list[int]:
        """``[width, frac, signed]``, the form the hardware metadata and JSON reports hold."""
        return [self.width, self.frac, int(self.signed)]

    def __str__(self) -> str:
        return f"{'' if self.signed else 'u'}fixed<{self.width},{self.frac}>"
