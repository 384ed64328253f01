"""Hardware objectives of a search trial: BitOPs, the calibrated resource estimate, and Yosys for a final set.

A trial's quantised graph is what the hardware flow (``ch hardware``) would build, so the search
measures it the same way:

- ``bitops``: ``count_ops_analysis_pass``'s per-sample BitOPs (MACs × input bits × weight bits),
  summed over the graph; milliseconds, needs only the quantised metadata.
- ``resource_estimate``: the graph prepared by ``chop.hardware.prepare`` (BatchNorm folded, every
  tensor a fixed-point format) and ``chop.hardware.estimate.estimate_design``: LUTs, FFs and DSPs
  (0: the emitted design has no multiplier) of what ``emit_rtl`` writes, and its latency in cycles
  (a register per layer by default). Tens of milliseconds for the JSC zoo, against a minute or more
  of Yosys for jsc-s: this is what a search scores thousands of candidates with.
- ``synthesised_resources``: the same design emitted and put through Yosys ``synth_xilinx``; for the
  few points of a final Pareto set, where the measured figure is worth minutes.

A candidate the hardware flow cannot build (a node left in float, a format with no fixed-point
twin, an accumulator over 52 bits) raises the flow's one-line ``MachopError``; the search records
it as the trial's reason, as it does for a config the quantise pass refuses.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chop.hardware.estimate import estimate_design
from chop.hardware.fixed import FixedFormat
from chop.hardware.prepare import prepare
from chop.hardware.rtl import emit_rtl
from chop.hardware.rtl.netlist import build_netlist
from chop.hardware.rtl.top import design_latency
from chop.hardware.synth import synthesize
from chop.passes.graph.analysis.count_ops import count_ops_analysis_pass

HARDWARE_METRICS = {
    "bitops": ("bitops",),
    "resource_estimate": ("luts", "ffs", "dsps", "latency_cycles"),
    "synthesised_resources": ("yosys_luts", "yosys_ffs", "yosys_dsps", "yosys_carry4"),
}
"""Each hardware runner and the metrics it reports (what ``metrics.<name>`` may name)."""


@dataclass(frozen=True)
class HardwareSettings:
    """How a trial's design is built: as ``ch hardware`` builds it (its ``[hardware]`` keys)."""

    pipeline: str = "layer"
    input_format: FixedFormat | None = None
    fold_batchnorm: bool = True
    nodsp: bool = True


def bitops(graph: Any) -> dict[str, float]:
    """``{"bitops"}``: the graph's per-sample BitOPs from its quantised metadata."""
    _, info = count_ops_analysis_pass(graph, {"verbose": False})
    return {"bitops": float(info["total"]["bitops"])}


def _prepared(graph: Any, settings: HardwareSettings) -> Any:
    return prepare(graph.model, settings.input_format, settings.fold_batchnorm).module


def resource_estimate(graph: Any, settings: HardwareSettings = HardwareSettings()) -> dict[str, float]:
    """``{"luts", "ffs", "dsps", "latency_cycles"}`` of the design ``ch hardware emit`` would write."""
    prepared = _prepared(graph, settings)
    estimate = estimate_design(prepared, pipeline=settings.pipeline, nodsp=settings.nodsp)
    latency = design_latency(build_netlist(prepared), settings.pipeline)
    return {"luts": float(estimate.luts), "ffs": float(estimate.ffs), "dsps": 0.0, "latency_cycles": float(latency)}


def synthesised_resources(graph: Any, settings: HardwareSettings = HardwareSettings(),
                          work_dir: Path | None = None) -> dict[str, float]:
    """``{"yosys_luts", "yosys_ffs", "yosys_dsps", "yosys_carry4"}``: the design emitted and synthesised.

    ``work_dir`` keeps the RTL and Yosys's report (a temporary directory otherwise).
    """
    prepared = _prepared(graph, settings)
    with tempfile.TemporaryDirectory(prefix="machop-search-synth-") as scratch:
        where = work_dir if work_dir is not None else Path(scratch)
        design = emit_rtl(prepared, where / "rtl", pipeline=settings.pipeline)
        report = synthesize(design.files, design.top_name, where / "synth", nodsp=settings.nodsp)
    total = report.total
    return {"yosys_luts": float(total.luts), "yosys_ffs": float(total.ffs), "yosys_dsps": float(total.dsps),
            "yosys_carry4": float(total.carry4)}
