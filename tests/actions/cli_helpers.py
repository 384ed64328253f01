"""Running ``ch`` in-process for the action tests: its exit code and what it printed, and its one error line."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

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


QUANTISE_EVERY_NODE = """
[passes.quantize]
by = "type"
[passes.quantize.default.config]
name = "{name}"
data_in_width = 8
data_in_{second} = 4
weight_width = {weight_width}
weight_{second} = {weight_second}
bias_width = 8
bias_{second} = 4
"""


def quantise_toml(directory: Path, name: str = "integer", second: str = "frac_width",
                  weight: tuple[int, int] = (8, 4)) -> Path:
    """A TOML quantising every node with format ``name`` (8/4 data and bias, ``weight`` weights), in ``directory``.

    ``second`` is the format's second key (``frac_width``; ``exponent_width`` for minifloats).
    """
    path = directory / f"{name}-{weight[0]}.toml"
    path.write_text(QUANTISE_EVERY_NODE.format(name=name, second=second, weight_width=weight[0],
                                               weight_second=weight[1]))
    return path
