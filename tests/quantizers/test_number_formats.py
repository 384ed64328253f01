"""Number formats as frozen types: printing and parsing, config round trips, pickles old and new."""

from __future__ import annotations

import pickle

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from chop.errors import PassError, QuantizerError
from chop.quantizers import FORMATS, ApFixed, Fixed, Integer, Quantizer, make_quantizer
from chop.quantizers.ap_fixed import OVERFLOW_MODES, ROUNDING_MODES

# one valid config per format: what make_quantizer gets from a node config
CONFIGS = {
    "integer": {"width": 8, "frac_width": 3},
    "fixed": {"width": 6},
    "ap_fixed": {"width": 10, "int_width": 4, "rounding": "RND_CONV", "overflow": "SAT_SYM"},
    "minifloat_ieee": {"width": 8, "exponent_width": 4},
    "minifloat_denorm": {"width": 8, "exponent_width": 3, "exponent_bias": 2},
    "log": {"width": 6},
    "block_fp": {"width": 7, "exponent_width": 8, "block_size": [1, 16]},
    "block_log": {"width": 6, "exponent_bias_width": 3},
    "block_minifloat": {"width": 8, "exponent_width": 4, "exponent_bias_width": 4, "block_size": 4},
    "binary": {"stochastic": True, "seed": 3},
    "ternary": {"mean": 0.5, "scaling_factor": True},
}

ap_fixed_types = st.builds(ApFixed, width=st.integers(1, 52), int_width=st.integers(0, 1024),
                           rounding=st.sampled_from(ROUNDING_MODES), overflow=st.sampled_from(OVERFLOW_MODES),
                           signed=st.booleans())


def test_every_format_has_a_config_here() -> None:
    assert set(CONFIGS) == set(FORMATS)


@settings(deadline=None)
@given(ap_fixed_types)
def test_ap_fixed_prints_and_parses_back(number: ApFixed) -> None:
    assert ApFixed.parse(str(number)) == number
    assert make_quantizer("ap_fixed", dict(number.params), signed=number.signed) == number


@settings(deadline=None)
@given(st.integers(1, 52), st.integers(-40, 52), st.booleans())
def test_integer_keys_round_trip(width: int, frac_width: int, signed: bool) -> None:
    number = make_quantizer("integer", {"width": width, "frac_width": min(frac_width, width)}, signed=signed)
    assert make_quantizer("integer", dict(number.params), signed=signed) == number
    low, high = number.value_range()
    assert number.step() == 2.0 ** -number.frac_width and (high - low) / number.step() == 2**width - 1


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_a_format_is_rebuilt_from_its_own_keys_and_pickles(name: str) -> None:
    number = make_quantizer(name, CONFIGS[name], operand="weight")
    assert isinstance(number, FORMATS[name]) and number.name == name
    assert make_quantizer(name, dict(number.params), operand="weight") == number
    assert pickle.loads(pickle.dumps(number)) == number
    assert isinstance(number.precision(), list) and str(number).startswith(name.split("_")[0])


def test_fixed_is_integer_under_another_name() -> None:
    fixed, integer = make_quantizer("fixed", {"width": 6}), make_quantizer("integer", {"width": 6})
    assert isinstance(fixed, Fixed) and isinstance(fixed, Integer) and fixed != integer
    assert (fixed.module_suffix, fixed.function_suffix) == ("Integer", "integer")
    assert fixed.precision() == integer.precision() == [6, 3]


def test_formats_without_a_spelling_refuse_to_parse() -> None:
    with pytest.raises(QuantizerError, match="'integer' has no type spelling"):
        Integer.parse("integer<8,4>")


def test_quantizer_errors_are_pass_errors() -> None:
    """Callers that caught ``PassError`` from the quantise pass still catch format errors."""
    with pytest.raises(PassError):
        make_quantizer("integer", {"width": 0})
    assert issubclass(QuantizerError, PassError)


def _legacy(name: str, params: dict, signed: bool) -> Quantizer:
    """What unpickling a ``Quantizer(name, params, signed)`` of earlier versions does."""
    old = Quantizer.__new__(Quantizer)
    old.__setstate__({"name": name, "params": tuple(params.items()), "signed": signed})
    return old


def test_quantizers_pickled_before_the_format_types_become_them() -> None:
    assert _legacy("integer", {"width": 6, "frac_width": 2}, False) == Integer(6, 2, signed=False)
    block = _legacy("block_fp", {"width": 7, "exponent_width": 8, "exponent_bias": 127, "block_size": (16,),
                                 "skip_first_dim": True}, True)
    assert block == make_quantizer("block_fp", {"width": 7, "exponent_width": 8}, operand="data_in")
    assert str(_legacy("ap_fixed", {"width": 8, "int_width": 3, "rounding": "RND", "overflow": "SAT"}, True)) == \
        "ap_fixed<8,3,AP_RND,AP_SAT>"
