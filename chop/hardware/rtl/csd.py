"""Canonical signed digit (CSD) recoding: a constant as the fewest signed powers of two.

A product by a constant weight ``w`` is a sum of shifted copies of the input, one per nonzero
digit. Binary ``7 = 4 + 2 + 1`` needs three terms; CSD ``7 = 8 - 1`` needs two. CSD has no two
adjacent nonzero digits, so a ``b``-bit weight has at most ``ceil((b + 1) / 2)`` terms and about
``b / 3`` on average (Reitwiesner, 1960), the fewest of any signed-digit form.
"""

from __future__ import annotations


def csd_digits(value: int) -> tuple[tuple[int, int], ...]:
    """``(shift, sign)`` pairs, lowest shift first, with ``value == sum(sign << shift)``.

    Each step takes the lowest bit: an odd remainder ``r`` gives the digit ``2 - (r mod 4)``
    (+1 when ``r = 1 mod 4``, -1 when ``r = 3 mod 4``), which leaves the next bit even: that is
    what keeps nonzero digits apart.
    """
    digits = []
    shift = 0
    while value != 0:
        if value & 1:
            sign = 2 - (value & 3)
            digits.append((shift, sign))
            value -= sign
        value >>= 1
        shift += 1
    return tuple(digits)


def describe_digits(value: int) -> str:
    """A weight and its digits as the comments write it: ``-7 = -8 + 1``."""
    terms = [f"{'-' if sign < 0 else '+'} {1 << shift}" for shift, sign in reversed(csd_digits(value))]
    text = " ".join(terms)
    return f"{value} = {text[2:] if text.startswith('+') else '-' + text[2:]}"
