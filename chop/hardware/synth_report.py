"""What a Yosys ``synth_xilinx`` run costs, read from the files the run writes, per module and in total.

``chop.hardware.synth`` runs Yosys; this module only reads what that run leaves behind, so the
parsing is tested on stored outputs without Yosys. Yosys writes four files for it:

- ``stat.json`` (``stat -json -top TOP``): the cells of every module by type, each submodule
  instance counted as one cell of the submodule's type;
- ``instances.json`` (``json -o instances.json TOP``): the top's netlist, to name the instances;
- ``levels_modules.txt`` / ``levels_top.txt`` (``ltp``, see ``LEVELS_EXPLAINED``): the longest
  combinational path of each module as synthesised and of the flattened top.

The total is accumulated here from the per-module counts (a module's own cells plus, for every
instance it holds, the instance's total), so it does not depend on a Yosys version printing its
own hierarchy summary.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chop.errors import HardwareError

STAT_FILE, INSTANCES_FILE = "stat.json", "instances.json"
LEVELS_MODULES_FILE, LEVELS_TOP_FILE = "levels_modules.txt", "levels_top.txt"

LEVELS_EXPLAINED = ("logic levels: cells on the longest combinational path between registers or ports "
                    "(Yosys 'ltp' with flip-flops, latches, SRLs and block RAMs deselected; each LUT, "
                    "MUXF7/8, CARRY4 and DSP48E1 counts one, as Vivado counts logic levels)")

LUT_TYPES = tuple(f"LUT{size}" for size in range(1, 7))
# every 7-series flip-flop primitive Yosys maps to: clock enable + sync reset/set, async clear/preset
FF_TYPES = ("FDRE", "FDSE", "FDCE", "FDPE", "FDRE_1", "FDSE_1", "FDCE_1", "FDPE_1")
DSP_TYPE, CARRY_TYPE = "DSP48E1", "CARRY4"

LABEL_WIDTH = 16  # of the module column, so that a table of six-digit counts fits 100 columns
_LTP_LINE = re.compile(r"^Longest topological path in (\S+) \(length=(\d+)\):")


def plain_name(yosys_name: str) -> str:
    """A Yosys identifier as written in the source: ``\\dot4`` is ``dot4``; generated ``$...`` names stay."""
    return yosys_name[1:] if yosys_name.startswith("\\") else yosys_name


@dataclass(frozen=True)
class CellCounts:
    """Mapped cells of one module (or of a whole hierarchy), grouped as resource reports group them."""

    by_type: Mapping[str, int] = field(default_factory=dict)  # every leaf cell type Yosys reports

    @property
    def lut_sizes(self) -> dict[str, int]:
        return {lut: self.by_type.get(lut, 0) for lut in LUT_TYPES}

    @property
    def luts(self) -> int:
        return sum(self.lut_sizes.values())

    @property
    def ffs(self) -> int:
        return sum(self.by_type.get(ff, 0) for ff in FF_TYPES)

    @property
    def carry4(self) -> int:
        return self.by_type.get(CARRY_TYPE, 0)

    @property
    def dsps(self) -> int:
        return self.by_type.get(DSP_TYPE, 0)

    @property
    def other(self) -> int:
        """Cells that are none of the above: MUXF7/F8, SRLs, distributed RAM, buffers..."""
        return sum(self.by_type.values()) - self.luts - self.ffs - self.carry4 - self.dsps

    def plus(self, other: CellCounts, times: int = 1) -> CellCounts:
        merged = dict(self.by_type)
        for cell, count in other.by_type.items():
            merged[cell] = merged.get(cell, 0) + times * count
        return CellCounts(dict(sorted(merged.items())))

    def as_dict(self) -> dict[str, Any]:
        return {"luts": self.luts, "lut_sizes": self.lut_sizes, "ffs": self.ffs, "carry4": self.carry4,
                "dsps": self.dsps, "other": self.other, "cells": dict(self.by_type)}


@dataclass(frozen=True)
class ModuleCost:
    """One module the top instantiates (a layer): the cells of one instance and its logic levels."""

    module: str
    instances: tuple[str, ...]  # the top's instance names of this module
    cells: CellCounts
    logic_levels: int

    @property
    def label(self) -> str:
        """The instance names when they are short enough to read, else the module's name."""
        names = ", ".join(self.instances)
        return names if self.instances and len(names) <= LABEL_WIDTH else self.module

    def as_dict(self) -> dict[str, Any]:
        return {"module": self.module, "instances": list(self.instances), **self.cells.as_dict(),
                "logic_levels": self.logic_levels}


@dataclass(frozen=True)
class SynthesisReport:
    """The cost of a design under one Yosys command: the top's submodules, its own cells and the total."""

    top: str
    command: str  # the synth_xilinx command line as run
    yosys_version: str  # as Yosys prints it: "Yosys 0.23 (git sha1 7ce5011c24b)"
    seconds: float  # wall time of the whole Yosys run
    modules: tuple[ModuleCost, ...]  # in the order Yosys lists them
    top_cells: CellCounts  # cells of the top itself (glue, registers between layers), instances excluded
    total: CellCounts  # the whole hierarchy: every instance counted
    logic_levels: int  # of the flattened design

    @property
    def nodsp(self) -> bool:
        return "-nodsp" in self.command.split()

    def as_dict(self) -> dict[str, Any]:
        """The JSON form written to ``synth.json`` (``from_dict`` reads it back)."""
        return {"top": self.top, "command": self.command, "yosys_version": self.yosys_version,
                "seconds": self.seconds, "logic_levels_meaning": LEVELS_EXPLAINED,
                "modules": [module.as_dict() for module in self.modules], "top_cells": self.top_cells.as_dict(),
                "total": {**self.total.as_dict(), "logic_levels": self.logic_levels}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SynthesisReport:
        modules = tuple(ModuleCost(m["module"], tuple(m["instances"]), CellCounts(m["cells"]), m["logic_levels"])
                        for m in data["modules"])
        return cls(data["top"], data["command"], data["yosys_version"], data["seconds"], modules,
                   CellCounts(data["top_cells"]["cells"]), CellCounts(data["total"]["cells"]),
                   data["total"]["logic_levels"])

    def table(self) -> str:
        """Rows: each submodule (one instance's cells x instances), the top's own cells, the total.

        Fits 100 columns: long module names are cut, the LUT split (LUT1/../LUT6) counts from
        10,000 up in thousands ("12k"); ``as_dict`` has every count exact.
        """
        headers = ["module", "inst", "LUTs", "LUT1/2/3/4/5/6", "FFs", "CARRY4", "DSP", "other", "levels"]

        def row(label: str, inst: str, cells: CellCounts, levels: str) -> list[str]:
            split = "/".join(_compact(count) for count in cells.lut_sizes.values())
            return [_cut(label), inst, str(cells.luts), split, str(cells.ffs), str(cells.carry4), str(cells.dsps),
                    str(cells.other), levels]

        rows = [row(m.label, str(len(m.instances)), m.cells, str(m.logic_levels)) for m in self.modules]
        if self.modules:
            rows.append(row(f"{self.top} (own cells)", "1", self.top_cells, ""))
        rows.append(row("total", "", self.total, str(self.logic_levels)))
        command = "synth_xilinx -nodsp" if self.nodsp else "synth_xilinx"
        title = f"{_cut(self.top)}: {command}, {self.yosys_version}, {self.seconds:.1f} s"
        widths = [max(len(cell) for cell in column) for column in zip(headers, *rows)]
        rule = ["-" * width for width in widths]
        lines = ["  ".join(cell.ljust(width) if i == 0 else cell.rjust(width) for i, (cell, width) in
                           enumerate(zip(line, widths))).rstrip() for line in [headers, rule, *rows]]
        return "\n".join([title, *lines])


def _cut(label: str) -> str:
    return label if len(label) <= LABEL_WIDTH else label[:LABEL_WIDTH - 1] + "~"


def _compact(count: int) -> str:
    return str(count) if count < 10_000 else f"{count // 1000}k" if count < 1_000_000 else f"{count / 1e6:.1f}M"


def parse_levels(text: str) -> dict[str, int]:
    """``ltp`` output: the longest path of each module it printed, by plain module name."""
    levels: dict[str, int] = {}
    for line in text.splitlines():
        match = _LTP_LINE.match(line.strip())
        if match:
            levels[plain_name(match.group(1))] = int(match.group(2))
    return levels


def read_report(run_dir: Path, top: str, command: str, seconds: float) -> SynthesisReport:
    """The report of the Yosys run whose outputs lie in ``run_dir``."""
    try:
        stat = json.loads((run_dir / STAT_FILE).read_text())
        netlist = json.loads((run_dir / INSTANCES_FILE).read_text())
        module_levels = parse_levels((run_dir / LEVELS_MODULES_FILE).read_text())
        top_levels = parse_levels((run_dir / LEVELS_TOP_FILE).read_text())
    except (OSError, ValueError) as error:
        raise HardwareError(f"yosys left no readable statistics in {run_dir} ({error}); "
                            f"see its log for what went wrong") from None
    by_module = {plain_name(name): dict(entry.get("num_cells_by_type", {}))
                 for name, entry in stat["modules"].items()}
    if top not in by_module:
        raise HardwareError(f"yosys reported no module '{top}' (it has {', '.join(sorted(by_module))}); "
                            f"name the top module of the design")
    totals: dict[str, CellCounts] = {}

    def total_of(module: str) -> CellCounts:
        """A module's leaf cells plus, for each submodule instance, that submodule's total."""
        if module not in totals:
            total = CellCounts()
            for cell, count in by_module[module].items():
                name = plain_name(cell)
                leaf = name not in by_module
                total = total.plus(CellCounts({cell: count})) if leaf else total.plus(total_of(name), count)
            totals[module] = total
        return totals[module]

    instances: dict[str, list[str]] = {}
    for name, cell in netlist["modules"][top]["cells"].items():
        instances.setdefault(plain_name(cell["type"]), []).append(plain_name(name))
    top_own = {cell: count for cell, count in by_module[top].items() if plain_name(cell) not in by_module}
    modules = tuple(ModuleCost(module, tuple(instances.get(module, ())), total_of(module), module_levels.get(module, 0))
                    for module in by_module if module != top and module in instances)
    return SynthesisReport(top, command, stat.get("creator", "Yosys (version not reported)"), seconds, modules,
                           CellCounts(dict(sorted(top_own.items()))), total_of(top), top_levels.get(top, 0))
