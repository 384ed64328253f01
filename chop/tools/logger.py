"""Logging set-up; ``set_logging_verbosity`` keeps MASE's name for notebooks."""

from __future__ import annotations

import logging
import sys

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
          "error": logging.ERROR, "critical": logging.CRITICAL}


class _PlainFormatter(logging.Formatter):
    """``message`` for info and debug, ``warning: message`` above: one unwrapped line per record,
    so a pipe or a CI log shows each warning whole (rich's handler wraps at the console width)."""

    def format(self, record: logging.LogRecord) -> str:
        message = super().format(record)
        return message if record.levelno < logging.WARNING else f"{record.levelname.lower()}: {message}"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now (a test's capture, a redirected stream), not to the
    stream that was current when the handler was made."""

    @property  # type: ignore[override]
    def stream(self):  # noqa: ANN201
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:  # noqa: ANN001
        pass


def set_logging_verbosity(level: str = "info") -> None:
    """Set the level of machop's loggers (``chop.*``); messages go to stderr, one line each.

    Records still propagate to the root logger, so whatever listens there (pytest's ``caplog``, an
    application's own logging set-up) sees them too; a root logger that prints to stderr as well
    shows each message twice, so such a set-up should leave ``chop`` to this handler.
    """
    logger = logging.getLogger("chop")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(_PlainFormatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(LEVELS.get(level.lower(), logging.INFO))


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name)
