"""Running ``ch`` in-process for the action tests: its exit code and what it printed, and its one error line."""

from __future__ import annotations

import contextlib
import io

from chop.cli import main


def cli(argv: list[str]) -> tuple[int, str, str]:
    """``ch ARGV`` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def error_line(err: str) -> str:
    """The one ``ch: error:`` line of a failed command (there must be exactly one)."""
    lines = [line for line in err.splitlines() if line.startswith("ch: error:")]
    assert len(lines) == 1, err
    return lines[0]
