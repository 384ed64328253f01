"""Hypothesis profiles: CI is reproducible, `make fuzz` explores.

- ``ci`` (chosen when ``CI=true``): derandomised, no deadline, no example database, so a red run
  reruns identically on any machine and a cached example can never fail later runs.
- ``dev`` (the default elsewhere): hypothesis' own randomness and database, no deadline.
- ``fuzz`` (``make fuzz``): fresh random seeds and ten times each test's examples.

``HYPOTHESIS_PROFILE`` picks one explicitly. Every ``@given`` test carries the ``property`` marker,
so ``pytest -m property`` selects the property tests.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator

import pytest
from hypothesis import settings

FUZZ_EXAMPLE_FACTOR = 10

settings.register_profile("ci", derandomize=True, deadline=None, database=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.register_profile("fuzz", deadline=None, database=None, print_blob=True)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "dev")
settings.load_profile(PROFILE)


def pytest_report_header() -> str:
    return f"hypothesis profile: {PROFILE}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    scaled: set[int] = set()  # parametrised items share one function: scale it once
    for item in items:
        test = getattr(item, "obj", None)
        if not getattr(test, "is_hypothesis_test", False):
            continue
        item.add_marker(pytest.mark.property)
        if PROFILE == "fuzz" and id(test) not in scaled:  # a test's own @settings(max_examples=N) wins over a profile, so scale it here
            own = test._hypothesis_internal_use_settings  # noqa: SLF001 (hypothesis keeps a test's settings here)
            test._hypothesis_internal_use_settings = settings(own, max_examples=own.max_examples * FUZZ_EXAMPLE_FACTOR)
            scaled.add(id(test))


class LogLines(logging.Handler):
    """The messages one logger emitted during a test."""

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def log_lines() -> Iterator[Callable[[str, int], LogLines]]:
    """``log_lines("chop.engine", logging.INFO)`` collects that logger's messages until the test ends,
    at that level whatever verbosity an earlier test (or ``ch --log-level``) set."""
    attached: list[tuple[logging.Logger, LogLines, int]] = []

    def listen(name: str, level: int) -> LogLines:
        logger, handler = logging.getLogger(name), LogLines(level)
        attached.append((logger, handler, logger.level))
        logger.addHandler(handler)
        logger.setLevel(level)  # whatever verbosity an earlier test chose
        return handler

    yield listen
    for logger, handler, level in attached:
        logger.removeHandler(handler)
        logger.setLevel(level)
