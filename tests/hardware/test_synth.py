"""Yosys synthesis of a small design: the cell counts parsed, per module and in total, and the run's files.

The design (``synth_fixture/design.v``): a registered 4-term 8-bit constant dot product ``dot4``
instantiated twice, a ReLU module ``relu19`` on their sum, and an output register in the top. The
counts are what Yosys 0.23 (Debian's package) maps it to; they are deterministic for one Yosys,
so the tests first check the version they were recorded with. The parser is tested on the same
run's stored outputs in ``test_synth_report.py``, without Yosys.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chop.errors import HardwareError
from chop.hardware.synth import LOG_FILE, REPORT_FILE, synth_command, synthesize
from chop.hardware.synth_report import SynthesisReport

FIXTURE = Path(__file__).parent / "synth_fixture"
YOSYS_VERSION = "Yosys 0.23 (git sha1 7ce5011c24b)"

DOT4_NODSP = {"CARRY4": 5, "FDRE": 18, "LUT2": 16, "LUT3": 29, "LUT4": 24, "LUT5": 25, "LUT6": 166,
              "MUXF7": 60, "MUXF8": 17}
RELU = {"LUT2": 18}
TOP_OWN = {"CARRY4": 5, "FDRE": 18, "LUT2": 18}  # the 19-bit sum of the two dot products, the output register


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("synth")


@pytest.fixture(scope="module")
def reports(work_dir: Path) -> dict[bool, SynthesisReport]:
    """The design synthesised without DSPs, then with, into the same directory (so the first is kept as -v1)."""
    return {nodsp: synthesize([FIXTURE / "design.v"], "top", work_dir, nodsp=nodsp) for nodsp in (True, False)}


def test_counts_hold_for_the_yosys_that_made_them(reports: dict[bool, SynthesisReport]) -> None:
    assert reports[True].yosys_version == YOSYS_VERSION, "the expected counts below were recorded with Yosys 0.23"


def test_nodsp_maps_the_multipliers_to_luts_per_module_and_in_total(reports: dict[bool, SynthesisReport]) -> None:
    report = reports[True]
    assert report.command == synth_command("top", nodsp=True) and report.nodsp
    dot4, relu = report.modules
    assert (dot4.module, dot4.instances, dict(dot4.cells.by_type)) == ("dot4", ("first", "second"), DOT4_NODSP)
    cells = dot4.cells
    assert (cells.luts, cells.ffs, cells.carry4, cells.dsps, cells.other) == (260, 18, 5, 0, 77)
    assert dot4.cells.lut_sizes == {"LUT1": 0, "LUT2": 16, "LUT3": 29, "LUT4": 24, "LUT5": 25, "LUT6": 166}
    assert (relu.module, relu.instances, dict(relu.cells.by_type)) == ("relu19", ("act",), RELU)
    assert dict(report.top_cells.by_type) == TOP_OWN
    # the total counts dot4 twice: 2 * 260 + 18 + 18 LUTs, 2 * 18 + 18 FFs, 2 * 5 + 5 CARRY4
    assert (report.total.luts, report.total.ffs, report.total.carry4, report.total.dsps) == (556, 54, 15, 0)
    # dot4's adder tree (LUTs, wide-LUT muxes, a carry chain) is the longest path between registers
    assert (dot4.logic_levels, relu.logic_levels, report.logic_levels) == (14, 1, 14)


def test_with_dsps_each_product_takes_one_dsp48(reports: dict[bool, SynthesisReport]) -> None:
    report = reports[False]
    assert not report.nodsp
    dot4, relu = report.modules
    assert dict(dot4.cells.by_type) == {"DSP48E1": 4}  # the products, their sum and the register in DSP48E1s
    assert dict(relu.cells.by_type) == RELU and dict(report.top_cells.by_type) == TOP_OWN
    assert (report.total.luts, report.total.ffs, report.total.carry4, report.total.dsps) == (36, 18, 5, 8)
    # a DSP48E1 counts as one level even with its output register inside: 4 DSPs, the adder, the ReLU
    assert report.logic_levels == 4 + 1 + 5 + 1


def test_the_report_and_log_are_written_and_an_earlier_run_is_kept(
        reports: dict[bool, SynthesisReport], work_dir: Path) -> None:
    assert SynthesisReport.from_dict(json.loads((work_dir / REPORT_FILE).read_text())) == reports[False]
    earlier = json.loads((work_dir / "synth-v1.json").read_text())
    assert earlier["command"] == synth_command("top", nodsp=True) and earlier["total"]["luts"] == 556
    assert "Printing statistics" in (work_dir / LOG_FILE).read_text() and (work_dir / "yosys-v1.log").is_file()
    assert sorted(path.name for path in work_dir.iterdir()) == ["synth-v1.json", "synth.json", "yosys-v1.log",
                                                                "yosys.log"]


def test_a_yosys_error_is_one_line_with_the_log_kept(tmp_path: Path) -> None:
    design = tmp_path / "broken.v"
    design.write_text("module top (input a, output y); missing u (.a(a), .y(y)); endmodule\n")
    warnings: list[str] = []
    with pytest.raises(HardwareError, match=r"yosys failed on 'top' \(exit 1\): ERROR: Module `\\missing' "
                                            r"referenced in module `\\top'.*; the log is .*yosys.log"):
        synthesize([design], "top", tmp_path / "out", estimate=30_000, warn=warnings.append)
    assert warnings == ["design 'top': about 30,000 LUTs estimated, above 20,000; Yosys may take many minutes "
                        "(Ctrl-C stops it)"]
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["yosys.log"]


@pytest.mark.parametrize(("name", "top", "message"), [
    ("design.txt", "top", "not a Verilog file"),
    ("absent.v", "top", "no such RTL file"),
    ("design.v", "9top", "'9top' is not a Verilog identifier"),
])
def test_bad_inputs_fail_before_yosys_starts(tmp_path: Path, name: str, top: str, message: str) -> None:
    for existing in ("design.txt", "design.v"):
        (tmp_path / existing).write_text("module top; endmodule\n")
    with pytest.raises(HardwareError, match=message):
        synthesize([tmp_path / name], top, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def big_design(outputs: int = 6, inputs: int = 8) -> str:
    """Constant products large enough that ABC works for a while (for the interrupt test)."""
    terms = [" + ".join(f"x[{8 * j + 7}:{8 * j}] * 8'd{(37 * i + 91 * j) % 251 + 3}" for j in range(inputs))
             for i in range(outputs)]
    body = "\n".join(f"    assign y[{20 * i + 19}:{20 * i}] = {term};" for i, term in enumerate(terms))
    return f"module big (input [{8 * inputs - 1}:0] x, output [{20 * outputs - 1}:0] y);\n{body}\nendmodule\n"


CHILD = """
import sys
from pathlib import Path
from chop.hardware.synth import synthesize
synthesize([Path(sys.argv[1])], "big", Path(sys.argv[2]), nodsp=True, progress=lambda step: print(step, flush=True))
"""


def children(pid: int, name: str) -> list[int]:
    """Processes called ``name`` whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        comm, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        if comm == name and int(rest[1]) == pid:
            found.append(int(entry.name))
    return found


def test_ctrl_c_stops_yosys_and_abc_and_leaves_nothing_behind(tmp_path: Path) -> None:
    (tmp_path / "big.v").write_text(big_design())
    out = tmp_path / "out"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path / "big.v"), str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert child.stdout is not None
    for step in child.stdout:  # progress lines, as they happen
        if "ABC" in step:
            break
    yosys = children(child.pid, "yosys")
    assert len(yosys) == 1
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=120)
    assert child.returncode != 0 and "KeyboardInterrupt" in stderr
    deadline = time.monotonic() + 30  # a guard against a hang, not a speed requirement
    while time.monotonic() < deadline:
        try:
            os.killpg(yosys[0], 0)  # yosys led its own process group: is any of it (yosys-abc) alive?
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        pytest.fail("yosys or its ABC subprocess still runs after Ctrl-C")
    assert list(out.iterdir()) == []  # no log, no report, no scratch directory


def test_without_yosys_synthesis_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(HardwareError, match=r"^yosys is not installed; install it with: apt-get install -y yosys"):
        synthesize([FIXTURE / "design.v"], "top", tmp_path / "out")
    assert not (tmp_path / "out").exists()
