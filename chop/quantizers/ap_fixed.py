"""Hardware fixed point ``ap_fixed<W,I,Q,O>`` / ``ap_ufixed<W,I,Q,O>`` (Vivado/Vitis HLS, hls4ml).

``W`` bits in total, ``I`` of them above the binary point (the sign bit included for ``ap_fixed``),
so ``F = W - I`` fractional bits and a step of ``2^-F``. Dropped low bits are handled by the
quantisation mode ``Q`` and out-of-range values by the overflow mode ``O``:

====================  ===============================================================
``TRN`` (default)     floor: truncate towards minus infinity
``TRN_ZERO``          truncate towards zero
``RND``               round to nearest, ties towards plus infinity
``RND_ZERO``          round to nearest, ties towards zero
``RND_MIN_INF``       round to nearest, ties towards minus infinity
``RND_INF``           round to nearest, ties away from zero
``RND_CONV``          round to nearest, ties to even (convergent)
``WRAP`` (default)    keep the low ``W`` bits (two's complement wrap-around)
``SAT``               saturate to the largest / smallest value
``SAT_ZERO``          replace an overflowing value by zero
``SAT_SYM``           saturate symmetrically: signed range ``[-max, max]``
====================  ===============================================================

The arithmetic runs in float64, where every step (scaling by ``2^F``, floor, comparisons with the
midpoint, ``fmod``) is exact for ``W <= 52`` (``MAX_FIXED_WIDTH``, wider types are refused);
results are exact in float32 for ``W <= 24``. ``I`` may exceed ``W`` (a step of ``2^(I-W)``).
``<W,I,RND_CONV,SAT>`` is the integer quantiser (same values; float32 arithmetic where exact, faster).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch
from torch import Tensor

from chop.errors import QuantizerError
from chop.quantizers.integer import MAX_FIXED_WIDTH, MAX_INT_WIDTH, integer_quantize
from chop.quantizers.quantizer import Quantizer, check_width, key
from chop.quantizers.ste import straight_through

ROUNDING_MODES = ("TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_MIN_INF", "RND_INF", "RND_CONV")
OVERFLOW_MODES = ("WRAP", "SAT", "SAT_ZERO", "SAT_SYM")


def normalize_mode(mode: str, modes: tuple[str, ...], what: str) -> str:
    """Accept ``RND`` and ``AP_RND`` alike (hls4ml prints the ``AP_`` prefix)."""
    key = mode.upper().removeprefix("AP_")
    if key not in modes:
        raise QuantizerError(f"unknown ap_fixed {what} mode '{mode}'; expected one of {', '.join(modes)}")
    return key


def _int_bounds(width: int, signed: bool, overflow: str) -> tuple[int, int]:
    if not signed:
        return 0, 2**width - 1
    hi = 2 ** (width - 1) - 1
    return (-hi if overflow == "SAT_SYM" else -(2 ** (width - 1))), hi


def _round(scaled: Tensor, rounding: str) -> Tensor:
    """Integer nearest ``scaled`` under a quantisation mode; every comparison is exact in float64."""
    down = torch.floor(scaled)
    if rounding == "TRN":
        return down
    if rounding == "TRN_ZERO":
        return torch.trunc(scaled)
    up = down + 1
    middle = down + 0.5  # exact below 2^52; at or above it every float64 is already an integer
    if rounding == "RND":
        tie = up
    elif rounding == "RND_MIN_INF":
        tie = down
    elif rounding == "RND_ZERO":
        tie = torch.where(scaled < 0, up, down)
    elif rounding == "RND_INF":
        tie = torch.where(scaled < 0, down, up)
    else:  # RND_CONV
        tie = torch.where(torch.fmod(down, 2) == 0, down, up)
    nearest = torch.where(scaled > middle, up, torch.where(scaled < middle, down, tie))
    return torch.where(scaled == down, down, nearest)


def _overflow(n: Tensor, width: int, signed: bool, overflow: str) -> Tensor:
    lo, hi = _int_bounds(width, signed, overflow)
    if overflow in ("SAT", "SAT_SYM"):
        return torch.clamp(n, lo, hi)
    if overflow == "SAT_ZERO":
        return torch.where((n < lo) | (n > hi), torch.zeros_like(n), n)
    # WRAP: the low W bits, reinterpreted in [lo, hi]; fmod is exact, so reduce first, then shift
    modulus = 2.0**width
    wrapped = torch.fmod(torch.fmod(n, modulus) - lo, modulus)
    return torch.where(wrapped < 0, wrapped + modulus, wrapped) + lo


def ap_fixed_quantize(x: Tensor, width: int, int_width: int, rounding: str = "TRN", overflow: str = "WRAP",
                      is_signed: bool = True) -> Tensor:
    """The values of ``ap_fixed<width,int_width,rounding,overflow>`` nearest ``x`` under its modes."""
    rounding = normalize_mode(rounding, ROUNDING_MODES, "rounding")
    overflow = normalize_mode(overflow, OVERFLOW_MODES, "overflow")
    if rounding == "RND_CONV" and overflow == "SAT":
        # the MASE integer quantiser: the same values, in float32 where float32 is exact (faster)
        return integer_quantize(x, width, width - int_width, is_signed)
    scale = 2.0 ** (width - int_width)
    wide = x.to(torch.float64)
    n = _overflow(_round(wide * scale, rounding), width, is_signed, overflow)
    return (n / scale).to(x.dtype)


def ap_fixed_quantizer(x: Tensor, width: int, int_width: int, rounding: str = "TRN", overflow: str = "WRAP",
                       is_signed: bool = True) -> Tensor:
    """``ap_fixed`` fake quantisation with a straight-through gradient."""
    return straight_through(ap_fixed_quantize, x, width=width, int_width=int_width, rounding=rounding,
                            overflow=overflow, is_signed=is_signed)


@dataclass(frozen=True)
class ApFixed(Quantizer):
    """An ``ap_fixed<W,I,Q,O>`` number type: a value that prints and parses as hardware people write it."""

    width: int = key(int)
    int_width: int = key(int)
    rounding: str = key(str, "TRN")
    overflow: str = key(str, "WRAP")
    signed: bool = True
    name = "ap_fixed"
    function = ap_fixed_quantizer
    module_suffix = "ApFixed"
    function_suffix = "ap_fixed"
    spelling = "ap_fixed<8,3,AP_RND,AP_SAT>"

    def __post_init__(self) -> None:
        """``I > W`` is a coarser grid (valid, as in HLS); ``I < 0`` is refused; modes are normalised."""
        check_width(self.name, self.width, MAX_FIXED_WIDTH)
        if self.int_width < 0:
            raise QuantizerError(f"int_width {self.int_width} makes the frac width {self.frac_width} larger than "
                                 f"width {self.width}")
        if self.int_width > MAX_INT_WIDTH:
            raise QuantizerError(f"int_width {self.int_width} is larger than {MAX_INT_WIDTH}: the largest value "
                                 f"2^(int_width-1) would not be a finite float64")
        self._fill("rounding", normalize_mode(self.rounding, ROUNDING_MODES, "rounding"))
        self._fill("overflow", normalize_mode(self.overflow, OVERFLOW_MODES, "overflow"))

    @property
    def frac_width(self) -> int:
        return self.width - self.int_width

    def __str__(self) -> str:
        kind = "ap_fixed" if self.signed else "ap_ufixed"
        return f"{kind}<{self.width},{self.int_width},AP_{self.rounding},AP_{self.overflow}>"

    @classmethod
    def parse(cls, text: str) -> ApFixed:
        """``ap_fixed<16,6>``, ``ap_ufixed<8,0,AP_RND_CONV,AP_SAT>`` (modes optional, defaults TRN/WRAP)."""
        match = re.fullmatch(r"\s*(ap_u?fixed)\s*<\s*(-?\d+)\s*,\s*(-?\d+)\s*(?:,\s*(\w+)\s*)?(?:,\s*(\w+)\s*)?>\s*", text)
        if match is None:
            raise QuantizerError(f"cannot parse fixed-point type '{text}'; expected e.g. ap_fixed<16,6,AP_RND,AP_SAT>")
        kind, width, int_width, rounding, overflow = match.groups()
        try:
            return cls(int(width), int(int_width), rounding or "TRN", overflow or "WRAP", kind == "ap_fixed")
        except QuantizerError as error:
            raise QuantizerError(f"{text}: {error}") from None

    def value_range(self) -> tuple[float, float]:
        lo, hi = _int_bounds(self.width, self.signed, self.overflow)
        return lo * 2.0 ** -self.frac_width, hi * 2.0 ** -self.frac_width

    range = value_range  # hls4ml's name for it

    def step(self) -> float:
        return 2.0 ** -self.frac_width

    def precision(self) -> list[int]:
        return [self.width, self.int_width]
