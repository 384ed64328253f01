"""``FixedFormat`` against exact rational arithmetic (``fractions.Fraction``), and against the quantiser."""

from __future__ import annotations

from fractions import Fraction

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from chop.errors import HardwareError
from chop.hardware.fixed import FixedFormat
from chop.quantizers.integer import integer_quantize

formats = st.builds(FixedFormat, width=st.integers(1, 24), frac=st.integers(-4, 20), signed=st.booleans())


def exact_code(value: Fraction, fmt: FixedFormat) -> int:
    """Round half to even by hand, then saturate: the definition, with no floats involved."""
    scaled = value * Fraction(2) ** fmt.frac
    floor = scaled.numerator // scaled.denominator
    rest = scaled - floor
    up = rest > Fraction(1, 2) or (rest == Fraction(1, 2) and floor % 2 == 1)
    return min(max(floor + int(up), fmt.lo), fmt.hi)


@given(fmt=formats, codes=st.lists(st.integers(-(2**30), 2**30), min_size=1, max_size=20), frac=st.integers(-4, 30))
def test_requantize_rounds_half_even_and_saturates(fmt: FixedFormat, codes: list[int], frac: int) -> None:
    got = fmt.requantize(torch.tensor(codes, dtype=torch.int64), frac).tolist()
    assert got == [exact_code(Fraction(c) / Fraction(2) ** frac, fmt) for c in codes]


@given(fmt=formats, values=st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=1, max_size=20))
def test_quantize_and_fake_agree_with_the_integer_quantiser(fmt: FixedFormat, values: list[float]) -> None:
    x = torch.tensor(values, dtype=torch.float64)
    codes = fmt.quantize(x)
    assert codes.tolist() == [exact_code(Fraction(v), fmt) for v in values]
    assert torch.equal(fmt.fake(x), fmt.to_real(codes))
    if fmt.frac <= fmt.width:  # the quantiser's own domain (frac_width <= width)
        assert torch.equal(fmt.fake(x), integer_quantize(x, fmt.width, fmt.frac, fmt.signed))


def test_holding_is_the_narrowest_format() -> None:
    assert FixedFormat.holding(-128, 127, 3) == FixedFormat(8, 3, True)
    assert FixedFormat.holding(-129, 0, 3) == FixedFormat(9, 3, True)
    assert FixedFormat.holding(0, 255, 0) == FixedFormat(8, 0, False)
    with pytest.raises(HardwareError, match="needs more than 52 bits"):
        FixedFormat.holding(0, 2**60, 0)


def test_format_prints_as_hardware_people_write_it() -> None:
    assert str(FixedFormat(8, 3)) == "fixed<8,3>" and str(FixedFormat(4, 4, False)) == "ufixed<4,4>"
    assert FixedFormat(8, 3).as_list() == [8, 3, 1]
