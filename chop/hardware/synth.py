"""Yosys ``synth_xilinx`` (7-series, LUT6) on RTL files: the cost of each layer and of the whole design.

One Yosys run per call, out of context (``-noiopad -noclkbuf``: no I/O or clock buffers, as the
published JSC LUT counts are taken), with ``-flatten`` except for the modules the top instantiates:
those keep their hierarchy (``keep_hierarchy``), so each layer is reported on its own while
whatever a layer instantiates (adders, a da4ml adder graph) is optimised together with it. After
mapping, the run writes the statistics that ``chop.hardware.synth_report`` reads, then flattens the
top to measure its logic levels (``LEVELS_EXPLAINED``).

The log (``yosys.log``) and the report (``synth.json``) land in ``work_dir`` only when the run is
over; an earlier pair there is kept as ``yosys-vN.log`` / ``synth-vN.json``. Ctrl-C (or any
exception) stops Yosys and its ABC subprocesses and leaves nothing new behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from chop.errors import HardwareError
from chop.hardware.synth_report import (INSTANCES_FILE, LEVELS_MODULES_FILE, LEVELS_TOP_FILE, STAT_FILE,
                                        SynthesisReport, read_report)
from chop.hardware.tools import find_tool
from chop.tools.atomic import atomic_write_text, ensure_writable
from chop.tools.logger import get_logger
from chop.tools.versions import versioned_name, versions

log = get_logger(__name__)

LOG_FILE, REPORT_FILE = "yosys.log", "synth.json"
SYNTH_OPTIONS = ("-flatten", "-noiopad", "-noclkbuf")
# cells that end a combinational path: flip-flops, latches, shift-register LUTs, block RAMs
SEQUENTIAL_CELLS = ("t:FD*", "t:LD*", "t:SRL*", "t:RAMB*")
# above this many estimated LUTs a run takes minutes: 16x16 plain 8-bit constant products (17k LUTs)
# took 3 minutes on two busy cores, da4ml's adder graph of the same weights (4.3k LUTs) 18 s
LARGE_DESIGN_LUTS = 20_000
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_PROGRESS = re.compile(r"^\d+(?:\.\d+)?\. (Executing .*?)\.?$")
_STOP_GRACE_SECONDS = 5.0


def synth_command(top: str, nodsp: bool) -> str:
    """The ``synth_xilinx`` command line a run uses."""
    return " ".join(["synth_xilinx", *SYNTH_OPTIONS, *(["-nodsp"] if nodsp else []), "-top", top])


def yosys_script(files: Sequence[Path], top: str, nodsp: bool) -> str:
    """The Yosys script: read, keep the top's submodules, map, write the statistics, flatten, measure depth."""
    if not _IDENTIFIER.fullmatch(top):
        raise HardwareError(f"top module name '{top}' is not a Verilog identifier; name the module the files define")
    reads = []
    for path in files:
        if path.suffix not in (".v", ".sv"):
            raise HardwareError(f"{path}: not a Verilog file; give synthesis .v or .sv files")
        if not path.is_file():
            raise HardwareError(f"{path}: no such RTL file; emit the design first (ch hardware emit)")
        if '"' in str(path) or "\n" in str(path):
            raise HardwareError(f"{path}: Yosys scripts cannot name a path with quotes or newlines; move the file")
        reads.append(f'read_verilog {"-sv " if path.suffix == ".sv" else ""}"{path.resolve()}"')
    combinational = " ".join(f"{cells} %d" for cells in SEQUENTIAL_CELLS)
    return "\n".join([
        *reads,
        f"hierarchy -check -top {top}",
        f"setattr -mod -set keep_hierarchy 1 {top}/c:* %M",  # the modules the top instantiates
        synth_command(top, nodsp),
        f"tee -q -o {STAT_FILE} stat -json -top {top}",
        f"stat -top {top}",  # the same, readable, for the log
        f"json -o {INSTANCES_FILE} {top}",
        f"tee -o {LEVELS_MODULES_FILE} ltp -noff * {combinational}",
        "setattr -mod -unset keep_hierarchy *",
        "flatten",
        f"tee -o {LEVELS_TOP_FILE} ltp -noff {top}/* {combinational}",
        "",
    ])


def synthesize(files: Sequence[Path], top: str, work_dir: Path, *, nodsp: bool = False,
               progress: Callable[[str], None] | None = None, estimate: int | None = None,
               warn_above: int = LARGE_DESIGN_LUTS, warn: Callable[[str], None] | None = None) -> SynthesisReport:
    """Synthesise ``files`` with ``top`` as the top module; the report is also written to ``work_dir``.

    ``nodsp`` maps every multiplier to LUTs (as the LUT-only JSC designs are compared).
    ``progress`` receives each Yosys step as it starts ("Executing ABC pass ..."). ``estimate``
    is the caller's LUT estimate of the design: above ``warn_above`` a one-line warning goes to
    ``warn`` (the ``chop.hardware.synth`` logger by default) before Yosys starts.
    """
    yosys = find_tool("yosys")
    script = yosys_script([Path(path) for path in files], top, nodsp)
    work_dir = ensure_writable(work_dir, HardwareError, "give synthesis a directory it can write")
    if estimate is not None and estimate > warn_above:
        (warn or log.warning)(f"design '{top}': about {estimate:,} LUTs estimated, above {warn_above:,}; "
                              f"Yosys may take many minutes (Ctrl-C stops it)")
    run_dir = Path(tempfile.mkdtemp(prefix=".synth-", dir=work_dir))
    try:
        (run_dir / "synth.ys").write_text(script)
        started = time.monotonic()
        returncode = _run(yosys, run_dir, progress)
        seconds = round(time.monotonic() - started, 3)
        if returncode != 0:
            error = _first_error(run_dir / LOG_FILE)
            _keep_earlier_run(work_dir)
            os.replace(run_dir / LOG_FILE, work_dir / LOG_FILE)
            raise HardwareError(f"yosys failed on '{top}' (exit {returncode}): {error}; "
                                f"the log is {work_dir / LOG_FILE}")
        report = read_report(run_dir, top, synth_command(top, nodsp), seconds)
        _keep_earlier_run(work_dir)
        os.replace(run_dir / LOG_FILE, work_dir / LOG_FILE)
        atomic_write_text(work_dir / REPORT_FILE, json.dumps(report.as_dict(), indent=2) + "\n")
        return report
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def _run(yosys: Path, run_dir: Path, progress: Callable[[str], None] | None) -> int:
    """Run the script in ``run_dir``, copying Yosys's output to the log; stop Yosys on any exception.

    Yosys runs in its own process group, so stopping it also stops the ABC processes it started.
    """
    process = subprocess.Popen([str(yosys), "-s", "synth.ys"], cwd=run_dir, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                               errors="replace", start_new_session=True)
    try:
        with open(run_dir / LOG_FILE, "w") as log_file:
            for line in process.stdout or ():
                log_file.write(line)
                step = _PROGRESS.match(line.rstrip())
                if step and progress is not None:
                    progress(step.group(1))
        return process.wait()
    except BaseException:
        _stop(process)
        raise


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM to Yosys's process group, SIGKILL if it is still there after a grace period."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=_STOP_GRACE_SECONDS)
            break
        except subprocess.TimeoutExpired:
            continue
    process.wait()


def _first_error(log_path: Path) -> str:
    """Yosys's ``ERROR:`` line, or the last line of its output when it stopped without one."""
    lines = [line.strip() for line in log_path.read_text(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")]
    return errors[0] if errors else (lines[-1] if lines else "no output")


def _keep_earlier_run(work_dir: Path) -> None:
    """Rename an earlier run's ``synth.json`` / ``yosys.log`` to the next free ``-vN`` pair."""
    pairs = [(Path(name).stem, Path(name).suffix) for name in (REPORT_FILE, LOG_FILE)]
    present = [(stem, suffix) for stem, suffix in pairs if (work_dir / f"{stem}{suffix}").exists()]
    if not present:
        return
    version = max(v for stem, suffix in pairs for v in [0, *versions(work_dir, stem, suffix)]) + 1
    for stem, suffix in present:
        os.replace(work_dir / f"{stem}{suffix}", work_dir / versioned_name(stem, version, suffix))
    log.info("earlier synthesis kept: %s", ", ".join(versioned_name(stem, version, suffix) for stem, suffix in present))
