"""Declared options: one checker for pass arguments, statistic options and TOML tables."""

from __future__ import annotations

import logging

import pytest

from chop.errors import ConfigError
from chop.tools.options import Option, Options, Wording

LOG = logging.getLogger("test_options")
WORDING = Wording(error=ConfigError, logger=LOG, unknown="{where}: unknown '{key}'{hint}; known: {known}{ignored_note}",
                  ignored="{where}: ignoring '{key}' ({reason})", wrong_type="{where}: {key} = {value}: expected {expected}")
OPTIONS = Options(Option("width", int, 8), Option("name", str), Option("jobs", ignored="serial", quiet_value=1),
                  Option("old", ignored="MASE-only"))


def test_parse_fills_defaults_and_drops_ignored_options() -> None:
    assert OPTIONS.parse({"width": 4, "old": True}, "t", WORDING) == {"width": 4, "name": None}
    assert OPTIONS.check({"width": 4, "old": True}, "t", WORDING) == {"width": 4}


def test_unknown_key_names_the_closest_option_and_both_sets() -> None:
    with pytest.raises(ConfigError, match=r"^t: unknown 'widht' \(did you mean 'width'\?\); known: width, name "
                                          r"\(accepted and ignored: jobs, old\)$"):
        OPTIONS.parse({"widht": 4}, "t", WORDING)


@pytest.mark.parametrize(("value", "expected"), [(True, "an integer"), ("8", "an integer"), (2.5, "an integer")])
def test_a_declared_type_is_checked_and_bool_is_no_number(value, expected) -> None:
    with pytest.raises(ConfigError, match=rf"^t: width = {value!r}: expected {expected}$"):
        OPTIONS.parse({"width": value}, "t", WORDING)


def test_none_passes_where_the_default_is_none() -> None:
    assert OPTIONS.parse({"name": None}, "t", WORDING)["name"] is None


def test_ignored_options_warn_once_each_unless_given_their_quiet_value(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="test_options"):
        OPTIONS.parse({"jobs": 1, "old": 0}, "t", WORDING)
        OPTIONS.parse({"jobs": 4}, "t", WORDING)
    assert caplog.messages == ["t: ignoring 'old' (MASE-only)", "t: ignoring 'jobs' (serial)"]


def test_an_option_declared_twice_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        Options(Option("a"), Option("a"))
