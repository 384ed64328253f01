"""Independent pure-Python references for the quantisers: exact integer and ``Fraction`` arithmetic.

Fixed point works on ``float.as_integer_ratio()`` with Python's unbounded integers (fast and exact);
the float formats enumerate every representable value as a ``Fraction``.
"""

from __future__ import annotations

from fractions import Fraction
from functools import cache

import numpy as np


def round_half_even(value: Fraction) -> int:
    return round(value)  # Fraction.__round__ rounds half to even


def _scaled(x: float, frac_width: int) -> tuple[int, int]:
    """``x * 2^frac_width`` as an exact ratio ``num / den`` of Python integers (``den`` a power of two)."""
    num, den = float(x).as_integer_ratio()
    if frac_width >= 0:
        return num * 2**frac_width, den
    return num, den * 2 ** (-frac_width)


def _nearest(num: int, den: int, tie: str) -> int:
    """Nearest integer to ``num / den``; on a tie: "up", "down", "zero", "away" or "even"."""
    down = num // den  # floor division of Python integers is exact
    twice_rest = 2 * (num - down * den)  # 2 * fractional part, in units of 1/den
    if twice_rest != den:
        return down + 1 if twice_rest > den else down
    negative = num < 0
    return {"up": down + 1, "down": down, "zero": down + 1 if negative else down,
            "away": down if negative else down + 1, "even": down if down % 2 == 0 else down + 1}[tie]


def _as_fraction(n: int, frac_width: int) -> Fraction:
    return Fraction(n) / Fraction(2) ** frac_width


def integer_reference(x: float, width: int, frac_width: int, signed: bool = True) -> Fraction:
    lo, hi = (-(2 ** (width - 1)), 2 ** (width - 1) - 1) if signed else (0, 2**width - 1)
    n = min(max(_nearest(*_scaled(x, frac_width), "even"), lo), hi)
    return _as_fraction(n, frac_width)


ROUNDING_TIES = {"RND": "up", "RND_MIN_INF": "down", "RND_ZERO": "zero", "RND_INF": "away", "RND_CONV": "even"}


def ap_fixed_reference(x: float, width: int, int_width: int, rounding: str, overflow: str, signed: bool) -> Fraction:
    frac_width = width - int_width
    num, den = _scaled(x, frac_width)
    if rounding == "TRN":
        n = num // den
    elif rounding == "TRN_ZERO":
        n = -((-num) // den) if num < 0 else num // den
    else:
        n = _nearest(num, den, ROUNDING_TIES[rounding])
    if signed:
        lo, hi = -(2 ** (width - 1)), 2 ** (width - 1) - 1
        if overflow == "SAT_SYM":
            lo = -hi
    else:
        lo, hi = 0, 2**width - 1
    if overflow in ("SAT", "SAT_SYM"):
        n = min(max(n, lo), hi)
    elif overflow == "SAT_ZERO":
        n = n if lo <= n <= hi else 0
    else:
        n = (n - lo) % 2**width + lo  # Python's % is a floor modulo: the low `width` bits
    return _as_fraction(n, frac_width)


def minifloat_values(width: int, exponent_width: int, bias: int, reserve_top: bool) -> list[Fraction]:
    """Every non-negative finite value, in code order (code = exponent << M | mantissa), ascending."""
    mantissa = width - 1 - exponent_width
    codes = 2**exponent_width - (1 if reserve_top else 0)
    values = []
    for e_code in range(codes):
        for m in range(2**mantissa):
            if e_code == 0:
                values.append(Fraction(m, 2**mantissa) * Fraction(2) ** (1 - bias))
            else:
                values.append((1 + Fraction(m, 2**mantissa)) * Fraction(2) ** (e_code - bias))
    return values


def minifloat_reference(x: float, values: list[Fraction]) -> Fraction:
    """Nearest value, ties to the even code, saturating at the largest."""
    magnitude = abs(Fraction(x))
    if magnitude >= values[-1]:
        result = values[-1]
    else:
        upper = next(i for i, v in enumerate(values) if v >= magnitude)
        lower = upper - 1 if values[upper] != magnitude else upper
        below, above = magnitude - values[lower], values[upper] - magnitude
        if below < above:
            result = values[lower]
        elif above < below:
            result = values[upper]
        else:
            result = values[lower] if lower % 2 == 0 else values[upper]
    return -result if x < 0 else result


def floor_log2(value: Fraction) -> int:
    """floor(log2(value)) of a positive Fraction from the bit lengths of its numerator and denominator."""
    e = value.numerator.bit_length() - value.denominator.bit_length()
    return e - 1 if Fraction(2) ** e > value else e


def ceil_log2(value: Fraction) -> int:
    e = floor_log2(value)
    return e if Fraction(2) ** e == value else e + 1


def log_reference(x: float, width: int, bias: int) -> Fraction:
    """MASE's formula: the offset 0.1·2^-bias is added in Python (IEEE float64) arithmetic, then the
    nearest power of two in the log domain is decided on exact squares."""
    offset = 0.1 * 2.0**-bias
    value = Fraction(abs(x) + offset)
    e = floor_log2(value)
    if value * value >= Fraction(2) ** (2 * e + 1):  # at or above 2^e * sqrt(2)
        e += 1
    e = min(max(e, -bias), 2 ** (width - 1) - 1 - bias)
    shifted = x + offset
    sign = (shifted > 0) - (shifted < 0)
    return Fraction(2) ** e * sign


def reference_block_maxima(xs: np.ndarray, block_size: int | list[int], skip_first_dim: bool) -> list[Fraction]:
    """Per element (in C order), its block's max |x| with the all-zero rule, by plain loops."""
    shape = xs.shape if xs.ndim else (1,)
    values = xs.reshape(shape)
    sizes = [block_size] if isinstance(block_size, int) else list(block_size)
    while len(sizes) < len(shape):
        sizes.insert(0, -1)
    sizes = sizes[len(sizes) - len(shape):]
    extents = []
    for axis, (dim, size) in enumerate(zip(shape, sizes)):
        extent = dim if size == -1 or size > dim else size
        extents.append(1 if skip_first_dim and axis == 0 else extent)
    maxima: dict[tuple[int, ...], Fraction] = {}
    for index in np.ndindex(*shape):
        key = tuple(i // e for i, e in zip(index, extents))
        maxima[key] = max(maxima.get(key, Fraction(0)), abs(Fraction(float(values[index]))))
    nonzero = [m for m in maxima.values() if m > 0]
    fill = min(nonzero) if nonzero else Fraction(1)
    return [maxima[tuple(i // e for i, e in zip(index, extents))] or fill for index in np.ndindex(*shape)]


def block_fp_reference(xs: np.ndarray, width: int, exponent_width: int, bias: int, block_size: int | list[int],
                       skip_first_dim: bool) -> list[Fraction]:
    out = []
    for x, largest in zip(xs.reshape(-1).tolist(), reference_block_maxima(xs, block_size, skip_first_dim)):
        e = min(max(floor_log2(largest) + 1, -bias), 2**exponent_width - 1 - bias)
        step = Fraction(2) ** (e - width + 1)
        n = min(round_half_even(abs(Fraction(x)) / step), 2 ** (width - 1) - 1)
        out.append(n * step * (1 if x > 0 else -1))
    return out


def block_log_reference(xs: np.ndarray, width: int, exponent_bias_width: int, block_size: int | list[int],
                        skip_first_dim: bool) -> list[Fraction]:
    out = []
    for x, largest in zip(xs.reshape(-1).tolist(), reference_block_maxima(xs, block_size, skip_first_dim)):
        bias = min(max(2 ** (width - 1) - 1 - ceil_log2(largest), 0), 2**exponent_bias_width - 1)
        out.append(log_reference(x, width, bias))
    return out


@cache
def _ieee_values(width: int, exponent_width: int, bias: int) -> list[Fraction]:
    return minifloat_values(width, exponent_width, bias, reserve_top=True)


def block_minifloat_reference(xs: np.ndarray, width: int, exponent_width: int, exponent_bias_width: int,
                              block_size: int | list[int], skip_first_dim: bool) -> list[Fraction]:
    out = []
    for x, largest in zip(xs.reshape(-1).tolist(), reference_block_maxima(xs, block_size, skip_first_dim)):
        bias = min(max(floor_log2(largest), 0), 2**exponent_bias_width - 1)
        out.append(minifloat_reference(x, _ieee_values(width, exponent_width, bias)))
    return out


def fixed_point_samples(seed: int, width: int, frac_width: int, count: int = 64) -> list[float]:
    """float32 values that stress a fixed-point quantiser: exact ties (half and quarter steps), values
    around the range ends, ordinary Gaussians at the grid's scale, and arbitrary finite bit patterns."""
    rng = np.random.default_rng(seed)
    limit = 2 ** (width + 1)
    step = 2.0 ** -frac_width
    half = (rng.integers(-limit, limit, count) + 0.5) * step
    quarter = (rng.integers(-2 * limit, 2 * limit, count) + 0.25) * step
    edges = (rng.integers(-3, 4, count) + rng.choice([-(2 ** (width - 1)), 2 ** (width - 1), 2**width], count)) * step
    gauss = rng.normal(0, 2 ** (width - 1) * step, count)
    bits = rng.integers(0, 2**32, count, dtype=np.uint64).astype(np.uint32).view(np.float32)
    bits = np.where(np.isfinite(bits), bits, np.float32(0))
    pool = np.concatenate([half, quarter, edges, gauss, bits]).astype(np.float32)
    return [float(v) for v in rng.choice(pool, count)]
