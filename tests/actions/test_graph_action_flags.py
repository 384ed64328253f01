"""`ch transform --help` / `ch search --help`: the flags those commands use, each described; MASE's others accepted."""

from __future__ import annotations

import re

import pytest

from chop.cli import main

SHOWN = ["-h", "--config", "--debug", "--task", "--load", "--load-type", "--log-level", "--seed", "--project-dir",
         "--project", "--data-path", "--model-file"]


def _help(capsys: pytest.CaptureFixture, command: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def _options(text: str) -> dict[str, str]:
    """``{first flag: its description}`` from the ``options:`` part of an argparse help text."""
    section = text.split("\noptions:\n", 1)[1]
    entries = re.split(r"\n(?=  -)", section.strip("\n"))
    options = {}
    for entry in entries:
        spec, _, description = entry.strip().partition("  ")
        options[spec.split()[0].rstrip(",")] = " ".join(description.split())
    return options


@pytest.mark.parametrize(("command", "own"), [("search", ["--storage", "--jobs", "--report", "--json"]), ("transform", ["--report", "--json"])])
def test_help_lists_only_the_flags_the_command_uses_each_described(capsys: pytest.CaptureFixture, command: str,
                                                                   own: list[str]) -> None:
    options = _options(_help(capsys, command))
    assert list(options) == SHOWN + own
    assert all(options.values()), options


def test_a_training_flag_is_accepted_and_warned_about(tmp_path, capsys: pytest.CaptureFixture,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    """MASE's CLI takes every flag for every action; lab 2 passes `--task cls --cpu=0` to ch transform."""
    config = tmp_path / "q.toml"
    config.write_text("[passes.quantize]\nby = 'type'\n[passes.quantize.default.config]\nname = 'NA'\n")
    code = main(["transform", "jsc-tiny", "jsc-pythia", "--config", str(config), "--task", "cls", "--cpu=0",
                 "--max-epochs", "3", "--project-dir", str(tmp_path), "--json"])
    assert code == 0, capsys.readouterr().err
    assert [m for m in caplog.messages if "no effect" in m] == [
        "`--max-epochs` has no effect on ch transform; it is a flag of ch train and ch test"]
