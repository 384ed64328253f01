"""``MACHOP_THREADS``: a positive integer, or a one-line error naming the variable."""

from __future__ import annotations

import pytest

from chop.errors import ConfigError
from chop.tools.runtime import thread_count


@pytest.mark.parametrize("environ, expected", [({}, 1), ({"MACHOP_THREADS": "3"}, 3), ({"MACHOP_THREADS": " 2 "}, 2)])
def test_thread_count_reads_the_variable(environ, expected):
    assert thread_count(environ) == expected


@pytest.mark.parametrize("value", ["abc", "0", "-1", "1.5", ""])
def test_a_bad_thread_count_names_the_variable_and_what_is_expected(value):
    with pytest.raises(ConfigError, match=rf"^MACHOP_THREADS='{value}' is not a thread count; expected a positive "
                                          "integer"):
        thread_count({"MACHOP_THREADS": value})
