"""Canonical signed digits and signed widths against their definitions."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chop.hardware.rtl.csd import csd_digits, describe_digits
from chop.hardware.rtl.verilog import signed_width


@given(st.integers(-(2**50), 2**50))
def test_digits_sum_to_the_value_and_are_never_adjacent(value: int) -> None:
    digits = csd_digits(value)
    assert sum(sign << shift for shift, sign in digits) == value
    assert all(sign in (1, -1) for _, sign in digits)
    shifts = [shift for shift, _ in digits]
    assert shifts == sorted(shifts) and all(b - a >= 2 for a, b in zip(shifts, shifts[1:]))


@given(st.integers(-(2**20), 2**20))
def test_no_signed_digit_form_has_fewer_terms(value: int) -> None:
    """Binary has popcount terms; CSD never has more, and never more than one per two bits (plus one)."""
    digits = csd_digits(value)
    assert len(digits) <= bin(abs(value)).count("1")
    assert len(digits) <= (abs(value).bit_length() + 2) // 2


def test_digits_as_the_comments_write_them() -> None:
    assert csd_digits(7) == ((0, -1), (3, 1))
    assert describe_digits(7) == "7 = 8 - 1"
    assert describe_digits(-7) == "-7 = -8 + 1"
    assert describe_digits(-128) == "-128 = -128"
    assert csd_digits(0) == ()


@given(st.integers(-(2**40), 2**40), st.integers(0, 2**40))
def test_signed_width_is_the_fewest_bits_that_hold_the_range(lo: int, span: int) -> None:
    hi = lo + span
    width = signed_width(lo, hi)
    assert -(2 ** (width - 1)) <= lo and hi <= 2 ** (width - 1) - 1
    assert width == 1 or not (-(2 ** (width - 2)) <= lo and hi <= 2 ** (width - 2) - 1)
