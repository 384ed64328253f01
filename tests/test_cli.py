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
