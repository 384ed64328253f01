"""The synthesis report read from a stored Yosys 0.23 run (``synth_fixture/``), without running Yosys.

The fixture is the ``-nodsp`` run of ``synth_fixture/design.v`` (see ``test_synth.py``). Its
``stat.json`` also holds Yosys's own hierarchy summary (``design``), which the parser does not
read: it is the independent reference for the total the parser accumulates.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from chop.errors import HardwareError
from chop.hardware.synth import synth_command
from chop.hardware.synth_report import (CellCounts, ModuleCost, SynthesisReport, parse_levels, plain_name,
                                        read_report)
from chop.tools.console import PIPE_WIDTH

FIXTURE = Path(__file__).parent / "synth_fixture"
COMMAND = synth_command("top", nodsp=True)


@pytest.fixture
def report() -> SynthesisReport:
    return read_report(FIXTURE, "top", COMMAND, seconds=4.5)


def test_each_module_is_read_with_its_instances(report: SynthesisReport) -> None:
    stat = json.loads((FIXTURE / "stat.json").read_text())["modules"]
    dot4, relu = report.modules
    assert (dot4.module, dot4.instances) == ("dot4", ("first", "second"))
    assert (relu.module, relu.instances) == ("relu19", ("act",))
    assert dict(dot4.cells.by_type) == stat["\\dot4"]["num_cells_by_type"]
    assert dict(relu.cells.by_type) == stat["\\relu19"]["num_cells_by_type"] == {"LUT2": 18}
    cells = dot4.cells
    assert (cells.luts, cells.ffs, cells.carry4, cells.dsps, cells.other) == (260, 18, 5, 0, 77)
    assert dot4.cells.lut_sizes == {"LUT1": 0, "LUT2": 16, "LUT3": 29, "LUT4": 24, "LUT5": 25, "LUT6": 166}


def test_the_total_counts_every_instance_as_yosys_own_summary_does(report: SynthesisReport) -> None:
    stat = json.loads((FIXTURE / "stat.json").read_text())
    assert dict(report.total.by_type) == stat["design"]["num_cells_by_type"]
    assert report.total == report.top_cells.plus(report.modules[0].cells, 2).plus(report.modules[1].cells)
    assert dict(report.top_cells.by_type) == {"CARRY4": 5, "FDRE": 18, "LUT2": 18}  # instances are not cells
    assert (report.total.luts, report.total.ffs, report.total.carry4, report.total.other) == (556, 54, 15, 154)


def test_logic_levels_are_ltps_lengths_per_module_and_of_the_flattened_top(report: SynthesisReport) -> None:
    assert [module.logic_levels for module in report.modules] == [14, 1]
    assert report.logic_levels == 14
    assert parse_levels((FIXTURE / "levels_modules.txt").read_text()) == {"dot4": 14, "relu19": 1, "top": 8}


def test_version_and_command_come_through(report: SynthesisReport) -> None:
    assert report.yosys_version == "Yosys 0.23 (git sha1 7ce5011c24b)"
    assert report.nodsp and report.command == "synth_xilinx -flatten -noiopad -noclkbuf -nodsp -top top"


def test_json_form_reads_back_to_the_same_report(report: SynthesisReport) -> None:
    data = json.loads(json.dumps(report.as_dict()))
    assert SynthesisReport.from_dict(data) == report
    assert data["total"]["luts"] == 556 and data["modules"][0]["instances"] == ["first", "second"]


def test_table_has_a_row_per_module_the_tops_own_cells_and_the_total(report: SynthesisReport) -> None:
    lines = report.table().splitlines()
    assert lines[0] == "top: synth_xilinx -nodsp, Yosys 0.23 (git sha1 7ce5011c24b), 4.5 s"
    assert [line.split()[0] for line in lines[3:]] == ["first,", "act", "top", "total"]
    assert lines[3].split() == ["first,", "second", "2", "260", "0/16/29/24/25/166", "18", "5", "0", "77", "14"]
    assert lines[-1].split() == ["total", "556", "0/68/58/48/50/332", "54", "15", "0", "154", "14"]


def test_table_fits_the_pipe_width_even_for_a_large_design() -> None:
    big = CellCounts({f"LUT{size}": 123_456 for size in range(1, 7)} | {"FDRE": 999_999, "CARRY4": 99_999,
                                                                         "DSP48E1": 9_999, "MUXF7": 999_999})
    module = ModuleCost("$paramod\\fixed_linear\\IN_WIDTH=s32'00000000000000000000000000001000", (), big, 123)
    report = SynthesisReport("a_rather_long_top_module_name", COMMAND, "Yosys 0.23 (git sha1 7ce5011c24b)", 1234.5,
                             (module,) * 3, big, big, 456)
    assert max(len(line) for line in report.table().splitlines()) <= PIPE_WIDTH


def test_plain_names_drop_yosys_escape() -> None:
    assert plain_name("\\dot4") == "dot4" and plain_name("$paramod\\layer\\K=5") == "$paramod\\layer\\K=5"


def test_a_run_without_statistics_is_a_one_line_error(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "run")
    (tmp_path / "run" / "stat.json").unlink()
    with pytest.raises(HardwareError, match="yosys left no readable statistics in .*; see its log"):
        read_report(tmp_path / "run", "top", COMMAND, 1.0)
    with pytest.raises(HardwareError, match="yosys reported no module 'other'"):
        read_report(FIXTURE, "other", COMMAND, 1.0)
