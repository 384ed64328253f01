"""Logging set-up; ``set_logging_verbosity`` keeps MASE's name for notebooks."""

from __future__ import annotations

import logging

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
          "error": logging.ERROR, "critical": logging.CRITICAL}


def set_logging_verbosity(level: str = "info") -> None:
    """Set the level of machop's loggers (``chop.*``); messages go to stderr through rich."""
    from rich.console import Console
    from rich.logging import RichHandler

    logger = logging.getLogger("chop")
    if not any(isinstance(h, RichHandler) for h in logger.handlers):
        handler = RichHandler(console=Console(stderr=True), show_time=False, show_path=False, markup=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(LEVELS.get(level.lower(), logging.INFO))


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name)
