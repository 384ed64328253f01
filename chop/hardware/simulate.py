"""Verilator simulation of an emitted design: a C++ harness, one sample per clock cycle.

``build_simulator(design, sim_dir)`` writes the harness and ``build.sh`` (the same Verilator
command, for users who build by hand: MASE's ``top/hardware/sim/build.sh``) and builds
``sim_dir/obj_dir/V{top}``. ``simulate(design, codes, sim_dir)`` feeds the input codes, collects
each valid output and returns the output codes, the latency measured from the valid signals and
the wall times. Codes travel as text, one sample per line.

A build is reused while its inputs are unchanged (a stamp holds their hash). Ctrl-C or a failure
kills Verilator's whole process group and removes the stamp and the executable, so a half-built
simulator is never taken for a finished one; the output file is written under a temporary name
and renamed when complete.
"""

from __future__ import annotations

import hashlib
import math
import os
import shlex
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from string import Template

import numpy as np
import torch
from torch import Tensor

from chop.errors import HardwareError
from chop.hardware.rtl.design import RtlDesign
from chop.hardware.tools import find_tool
from chop.tools.atomic import atomic_path, atomic_write_text

HARNESS = Path(__file__).with_name("simulate_harness.cpp")
OBJ_DIR = "obj_dir"
STAMP = ".build-stamp"


@dataclass(frozen=True)
class SimulationResult:
    """Output codes (int64, one row per input row, the design's output shape), what the run measured."""

    outputs: Tensor
    latency: int  # cycles from the first valid input to the first valid output
    cycles: int  # clock cycles run after reset
    build_seconds: float  # 0 when an up-to-date build was reused
    run_seconds: float


def harness_text(design: RtlDesign) -> str:
    """The C++ harness for ``design`` (the template with the design's sizes and widths)."""
    return Template(HARNESS.read_text()).substitute(
        TOP=design.top_name, IN_SIZE=design.input_size, IN_WIDTH=design.input_format.width,
        OUT_SIZE=design.output_size, OUT_WIDTH=design.output_format.width,
        OUT_SIGNED="true" if design.output_format.signed else "false")


def executable(design: RtlDesign, sim_dir: Path) -> Path:
    return Path(sim_dir) / OBJ_DIR / f"V{design.top_name}"


def verilator_arguments(design: RtlDesign, sim_dir: Path) -> list[str]:
    """Verilator's arguments (C++ generation), with paths relative to ``sim_dir`` (where the build runs).

    ``--output-split 0`` keeps the model in one C++ file: split models are compiled with a
    precompiled header, whose compiler flag the PyPI wheel's ``verilated.mk`` leaves empty
    (the build then fails). ``--output-split-cfuncs 500`` cuts the model's functions into pieces
    the compiler optimises in linear time: jsc-s at 8 bits compiles in about 10 s instead of 4 min.
    """
    sources = [os.path.relpath(path, sim_dir) for path in design.files]
    return ["--cc", "--exe", "-O3", "--output-split", "0", "--output-split-cfuncs", "500",
            "--top-module", design.top_name, "-Mdir", OBJ_DIR, "-o", f"V{design.top_name}", "-Wno-fatal",
            *sources, "harness.cpp"]


def make_arguments(design: RtlDesign) -> list[str]:
    """The compile step that ``verilator --build`` would run: the generated makefile.

    ``-O1`` for the per-cycle code and ``-O0`` for the run-once set-up code build a jsc-sized
    model in about two thirds of the time of Verilator's default ``-Os``, and it runs as fast.
    """
    return ["make", "-s", "-C", OBJ_DIR, "-f", f"V{design.top_name}.mk", "OPT_FAST=-O1", "OPT_SLOW=-O0"]


def build_script(verilator: Path, arguments: list[str], make: list[str]) -> str:
    return "\n".join([
        "#!/bin/sh",
        "# Builds the Verilator simulator of this design (written by machop): obj_dir/V<top>.",
        "# Run it from anywhere; set VERILATOR to use another Verilator.",
        "set -e",
        'cd "$(dirname "$0")"',
        f'VERILATOR="${{VERILATOR:-{verilator}}}"',
        f'"$VERILATOR" {shlex.join(arguments)}',
        shlex.join(make), ""])


def _runtime_key(verilator: Path) -> str:
    """Which Verilator built the cached runtime objects: its resolved path and its file's identity."""
    resolved = verilator.resolve()
    status = resolved.stat()
    return hashlib.sha256(f"{resolved}:{status.st_size}:{status.st_mtime_ns}".encode()).hexdigest()[:16]


def _reuse_runtime(cache: Path, obj_dir: Path) -> None:
    """Copy Verilator's runtime objects (``verilated*.o``, the same for every design) into a fresh build.

    They are compiled from Verilator's own sources with the same flags every time and take most
    of a build's time; copied after the makefile is generated, they are newer than it, so make
    keeps them.
    """
    for cached in sorted(cache.glob("verilated*.o")):
        shutil.copyfile(cached, obj_dir / cached.name)


def _keep_runtime(obj_dir: Path, cache: Path) -> None:
    for built in sorted(obj_dir.glob("verilated*.o")):
        if not (cache / built.name).is_file():
            with atomic_path(cache / built.name) as temporary:
                shutil.copyfile(built, temporary)


def run_interruptibly(command: list[str], cwd: Path, what: str, log: Path | None = None) -> str:
    """Run ``command`` in its own process group and return its output; on Ctrl-C or any error the
    whole group is killed before the exception goes on. A non-zero exit is a ``HardwareError``."""
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        output, _ = process.communicate()
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    if log is not None:
        atomic_write_text(log, output)
    if process.returncode != 0:
        lines = [line for line in output.splitlines() if line.strip()]
        errors = [line for line in lines if "%Error" in line or "error:" in line]
        detail = (errors or lines or ["no output"])[0].strip()
        where = f"; the whole log is in {log}" if log is not None else ""
        raise HardwareError(f"{what} failed (exit {process.returncode}): {detail}{where}")
    return output


def _stamp(design: RtlDesign, arguments: list[str], harness: str) -> str:
    digest = hashlib.sha256("\0".join([*arguments, harness]).encode())
    for path in design.files:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def build_simulator(design: RtlDesign, sim_dir: Path, *, runtime_cache: Path | None = None) -> Path:
    """Build (or reuse) the simulator of ``design`` in ``sim_dir``; returns the executable.

    ``runtime_cache``: a directory where Verilator's runtime objects are kept between builds (a
    build then takes about a third of the time); None compiles them in every build.
    """
    verilator = find_tool("verilator")
    sim_dir = Path(sim_dir)
    missing = [str(path) for path in design.files if not path.is_file()]
    if missing:
        raise HardwareError(f"the design's file {missing[0]} is missing; emit the RTL first (emit_rtl)")
    arguments, make = verilator_arguments(design, sim_dir), make_arguments(design)
    harness = harness_text(design)
    stamp, program = sim_dir / STAMP, executable(design, sim_dir)
    expected = _stamp(design, arguments, harness)
    if program.is_file() and stamp.is_file() and stamp.read_text() == expected:
        return program
    atomic_write_text(sim_dir / "harness.cpp", harness)
    atomic_write_text(sim_dir / "build.sh", build_script(verilator, arguments, make))
    (sim_dir / "build.sh").chmod(0o755)
    stamp.unlink(missing_ok=True)
    cache = None if runtime_cache is None else Path(runtime_cache) / _runtime_key(verilator)
    try:
        run_interruptibly([str(verilator), *arguments], sim_dir, "Verilator", sim_dir / "verilator.log")
        if cache is not None:
            _reuse_runtime(cache, sim_dir / OBJ_DIR)
        run_interruptibly(make, sim_dir, "the simulator's C++ build", sim_dir / "build.log")
    except BaseException:
        program.unlink(missing_ok=True)
        raise
    if cache is not None:
        _keep_runtime(sim_dir / OBJ_DIR, cache)
    atomic_write_text(stamp, expected)
    return program


def _rows(codes: Tensor, design: RtlDesign) -> np.ndarray:
    """The input codes as (rows, input_size) int64, checked against the input format's range."""
    if codes.dtype.is_floating_point or codes.dtype.is_complex or codes.dtype == torch.bool:
        raise HardwareError(f"simulate takes integer codes, got a {codes.dtype} tensor; quantise the inputs with "
                            f"the graph's FixedInput (FixedFormat.quantize)")
    if codes.ndim == 0 or math.prod(codes.shape[1:]) != design.input_size:
        raise HardwareError(f"simulate takes rows of {design.input_size} codes (shape {list(design.input_shape)}), "
                            f"got a tensor of shape {list(codes.shape)}")
    if len(codes) == 0:
        raise HardwareError("simulate needs at least one row of input codes")
    rows = codes.reshape(len(codes), design.input_size).to(torch.int64)
    fmt = design.input_format
    outside = (rows < fmt.lo) | (rows > fmt.hi)
    if outside.any():
        row, col = (int(i) for i in outside.nonzero()[0])
        raise HardwareError(f"input code {int(rows[row, col])} (row {row}, element {col}) is outside {fmt}'s "
                            f"range {fmt.lo}..{fmt.hi}")
    return rows.numpy()


def write_codes(path: Path, rows: np.ndarray) -> None:
    """Codes as text, one row per line (what the harness reads), written atomically."""
    atomic_write_text(path, "\n".join(" ".join(map(str, row)) for row in rows.tolist()) + "\n")


def read_codes(path: Path, columns: int) -> Tensor:
    values = np.array(path.read_text().split(), dtype=np.int64)
    return torch.from_numpy(values.reshape(-1, columns))


def run_script(program: str) -> str:
    return "\n".join([
        "#!/bin/sh",
        "# Builds the simulator and runs the test inputs through the RTL (written by machop).",
        "# outputs.txt gets the RTL's output codes; the exit status is 1 when a row differs from expected.txt.",
        "set -e",
        'cd "$(dirname "$0")"',
        "./build.sh",
        f"{OBJ_DIR}/{program} inputs.txt outputs.txt expected.txt", ""])


def write_testbench(design: RtlDesign, sim_dir: Path, inputs: Tensor, expected: Tensor) -> list[Path]:
    """MASE's testbench folder: the harness, ``build.sh``, ``inputs.txt`` (codes), ``expected.txt``
    (the reference's output codes) and ``run.sh`` (build, run, compare). Nothing is built here."""
    sim_dir = Path(sim_dir)
    rows = _rows(inputs, design)
    if len(expected) != len(rows) or math.prod(expected.shape[1:]) != design.output_size:
        raise HardwareError(f"expected outputs of shape {list(expected.shape)} do not match {len(rows)} rows of "
                            f"{design.output_size} codes")
    arguments = verilator_arguments(design, sim_dir)
    scripts = {"build.sh": build_script(find_tool("verilator"), arguments, make_arguments(design)),
               "run.sh": run_script(f"V{design.top_name}")}
    atomic_write_text(sim_dir / "harness.cpp", harness_text(design))
    for name, text in scripts.items():
        atomic_write_text(sim_dir / name, text)
        (sim_dir / name).chmod(0o755)
    write_codes(sim_dir / "inputs.txt", rows)
    write_codes(sim_dir / "expected.txt", expected.reshape(len(rows), design.output_size).numpy())
    return [sim_dir / name for name in ("harness.cpp", "build.sh", "run.sh", "inputs.txt", "expected.txt")]


def simulate(design: RtlDesign, codes: Tensor, sim_dir: Path, *, runtime_cache: Path | None = None
             ) -> SimulationResult:
    """Run ``codes`` (rows of input codes) through the design in Verilator, one row per cycle.

    The simulator is built in ``sim_dir`` (or reused, see ``build_simulator``); a relative
    ``sim_dir`` counts from the current directory, as the simulator runs inside it.
    """
    sim_dir = Path(sim_dir).absolute()
    rows = _rows(codes, design)
    start = time.perf_counter()
    program = build_simulator(design, sim_dir, runtime_cache=runtime_cache)
    built = time.perf_counter()
    inputs, outputs = sim_dir / "inputs.txt", sim_dir / "outputs.txt"
    write_codes(inputs, rows)
    outputs.unlink(missing_ok=True)
    try:
        report = run_interruptibly([str(program), inputs.name, outputs.name], sim_dir, "the simulation")
    finally:  # the harness writes OUTPUTS.tmp and renames it when complete: drop a partial one
        outputs.with_name(outputs.name + ".tmp").unlink(missing_ok=True)
    finished = time.perf_counter()
    last = report.split()[-8:]  # rows R cycles C latency L mismatches M
    fields = dict(zip(last[::2], last[1::2]))
    result = read_codes(outputs, design.output_size)
    if len(result) != len(rows):
        raise HardwareError(f"the simulation returned {len(result)} rows for {len(rows)} inputs")
    return SimulationResult(result.reshape(len(rows), *design.output_shape), int(fields["latency"]),
                            int(fields["cycles"]), built - start, finished - built)
