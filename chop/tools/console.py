"""Rich consoles that fit where they print: a terminal's own width, or 100 columns in a pipe.

Rich assumes 80 columns when output is not a terminal, which cut machop's wider tables (the
effective-arguments table among them) in logs and CI; 100 is the width machop's tables are made for.
"""

from __future__ import annotations

import sys

from rich.console import Console

PIPE_WIDTH = 100


def console(stderr: bool = False) -> Console:
    """A console on stdout (or stderr) that is ``PIPE_WIDTH`` wide when that stream is not a terminal."""
    stream = sys.stderr if stderr else sys.stdout
    is_terminal = hasattr(stream, "isatty") and stream.isatty()
    return Console(stderr=stderr, width=None if is_terminal else PIPE_WIDTH)
