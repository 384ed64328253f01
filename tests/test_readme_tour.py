"""The README's tour is real output: every command in it runs, and every line it shows is printed.

Run in a pipe, every table line fits 100 columns.

Each ```text block of the tour starts with ``$ ch ...`` (continued over lines ending in ``\\``);
the lines after it are output the command must print, in that order, with runs of spaces collapsed
(rich pads table cells to the widest value). ``...`` alone stands for lines left out; a line
ending in `` ...`` is shown cut, and matches a printed line that starts with the rest. Throughput and
wall-clock figures differ from run to run, so those numbers are compared as ``<time>``.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PIPE_WIDTH = 100
TABLE_EDGES = "┏┃┡│└+|"  # the first character of a rich or grid table line
CH = str(Path(sys.executable).with_name("ch"))
VOLATILE = [
    re.compile(r"\d[\d,]*(\.\d+)? (it/s|s\b|trials/s)"),
    re.compile(r"(seconds per epoch[ │|]+)\d+\.\d+"),
]


def tour_blocks(readme: str) -> list[tuple[str, list[str]]]:
    """``(command, shown output lines)`` for each ```text block of the README that starts with ``$ ch``."""
    blocks = re.findall(r"```text\n(.*?)```", readme, flags=re.S)
    tour = []
    for block in blocks:
        lines = block.splitlines()
        if not lines or not lines[0].startswith("$ ch "):
            continue
        command = lines[0][2:]
        rest = lines[1:]
        while command.endswith("\\"):
            command = command[:-1] + " " + rest.pop(0).strip()
        tour.append((command, rest))
    return tour


def normal(line: str) -> str:
    for pattern in VOLATILE:
        line = pattern.sub(lambda m: (m.group(1) if m.re.groups == 1 else "") + "<time>", line)
    return " ".join(line.split())


def assert_shown_in_order(shown: list[str], printed: str, command: str) -> None:
    printed_lines = [normal(line) for line in printed.splitlines()]
    position = 0
    for line in shown:
        if line.strip() in ("", "..."):
            continue
        wanted = normal(line)
        cut = wanted.endswith(" ...")
        wanted = wanted.removesuffix(" ...")
        found = next((i for i in range(position, len(printed_lines))
                      if (printed_lines[i].startswith(wanted) if cut else printed_lines[i] == wanted)), None)
        if found is None:
            pytest.fail(f"`{command}` did not print the README line {line!r}; it printed:\n{printed}")
        position = found + 1


def test_the_tour_has_every_section() -> None:
    commands = [command.split()[:3] for command, _ in tour_blocks((ROOT / "README.md").read_text())]
    assert [c[1] if c[1] not in ("sweep", "graph", "hardware", "export") else " ".join(c[1:3]) for c in commands] == [
        "train", "sweep run", "graph report", "transform", "search", "hardware report", "export qonnx"]


def test_every_tour_command_prints_what_the_readme_shows(tmp_path: Path) -> None:
    """One test, in README order: later commands read the checkpoint the first one writes."""
    (tmp_path / "configs").symlink_to(ROOT / "configs")
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "MACHOP_THREADS")}
    env["PYTHONUNBUFFERED"] = "1"  # stdout and stderr interleave as a terminal shows them
    for command, shown in tour_blocks((ROOT / "README.md").read_text()):
        argv = shlex.split(command)
        done = subprocess.run([CH, *argv[1:]], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=600)
        assert done.returncode == 0, f"`{command}` failed:\n{done.stdout}"
        assert_shown_in_order(shown, done.stdout, command)
        too_wide = [line for line in done.stdout.splitlines() if line[:1] in TABLE_EDGES and len(line) > PIPE_WIDTH]
        assert too_wide == [], f"`{command}` printed table lines wider than {PIPE_WIDTH} columns"
