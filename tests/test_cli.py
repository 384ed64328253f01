"""The `ch` entry point: version, help, and one-line errors instead of tracebacks."""

import subprocess
import sys

import pytest

from chop import __version__
from chop.cli import build_parser, main


def test_version_flag_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"machop {__version__}"


def test_every_action_declares_the_contract():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # noqa: SLF001 - argparse has no public accessor
    assert {"train", "test", "data"} <= set(commands)


def test_console_script_help_runs_without_heavy_imports():
    code = "import sys; from chop.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "usage: ch" in capsys.readouterr().out


def _commands(parser):
    """``(name, sub-parser)`` for every command and every group verb (``data info``, ...)."""
    import argparse

    for name, sub in parser._subparsers._group_actions[0].choices.items():  # noqa: SLF001
        verbs = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]  # noqa: SLF001
        if verbs:
            yield from ((f"{name} {verb}", p) for verb, p in verbs[0].choices.items())
        else:
            yield name, sub


def test_every_flag_of_every_command_is_described():
    """`ch X --help` says what each flag does; flags hidden from --help (SUPPRESS) are accepted, not shown."""
    import argparse

    undescribed = [f"ch {name} {action.option_strings[0]}" for name, sub in _commands(build_parser())
                   for action in sub._actions  # noqa: SLF001
                   if action.option_strings and action.help != argparse.SUPPRESS and not action.help]
    assert undescribed == []
