"""What a ``ch hardware`` run found, as typed records: the JSON of ``report.json`` and the one-shot table's rows.

``HardwareOutcome.as_json()`` is what ``report.json`` holds and what ``--json`` prints, so a script
reads the same dict either way. ``summary_rows`` puts the figures of ``ch hardware report`` next to
each other as (quantity, value) pairs: accuracy at every stage of the chain float -> quantised ->
prepared -> RTL, the mismatches, the cost under each synthesis mode, latency and wall times.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chop.hardware.rtl import RtlDesign
from chop.hardware.synth_report import SynthesisReport

# the synthesis modes a run can ask for: nodsp flag -> the key in JSON and the folder under synth/
SYNTH_MODES = {False: "dsp", True: "nodsp"}
SYNTH_COMMANDS = {"dsp": "synth_xilinx", "nodsp": "synth_xilinx -nodsp"}


@dataclass(frozen=True)
class Accuracy:
    """Test-split accuracy at each stage on the same rows; ``float`` is None when the run quantised nothing."""

    float: float | None
    quantised: float
    prepared: float  # the integer reference of the prepared graph (bit-exact with the prepared fake-quantised model)
    rtl: float | None  # None when the design was not simulated
    differing_rows: int  # rows whose predicted class differs between the quantised and the prepared graph


@dataclass(frozen=True)
class SimulationOutcome:
    """The RTL against the integer reference on ``rows`` test rows, one row per clock cycle."""

    rows: int
    mismatches: int  # rows where any output code of the RTL differs from the integer reference
    reference_mismatches: int  # rows where the prepared fake-quantised model differs from the integer reference
    rtl_accuracy: float
    reference_accuracy: float
    latency: int  # cycles from a valid input to its valid output, as measured
    cycles: int
    build_seconds: float  # 0 when an up-to-date simulator was reused
    run_seconds: float


def design_json(design: RtlDesign) -> dict[str, Any]:
    return {"top_name": design.top_name, "pipeline": design.pipeline, "latency": design.latency,
            "input_shape": list(design.input_shape), "input_format": design.input_format.as_list(),
            "output_shape": list(design.output_shape), "output_format": design.output_format.as_list(),
            "layers": [{"node": layer.node, "module": layer.module, "kind": layer.kind, "latency": layer.latency}
                       for layer in design.layers],
            "files": [str(path) for path in design.files]}


@dataclass(frozen=True)
class HardwareOutcome:
    """One run: where it wrote, what preparation did, the design, and what the later steps measured."""

    command: str  # emit, simulate, synth or report
    hardware_dir: Path
    kept: Path | None  # where an earlier run's hardware/ was moved (None on a first run)
    preparation: dict[str, Any]  # prepare_hardware_transform_pass's info
    design: RtlDesign
    sim_dir: Path
    emit_seconds: float
    simulation: SimulationOutcome | None = None
    synthesis: dict[str, SynthesisReport] = field(default_factory=dict)  # by SYNTH_MODES key
    accuracy: Accuracy | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "hardware_dir": str(self.hardware_dir),
            "kept": str(self.kept) if self.kept is not None else None,
            "preparation": self.preparation,
            "design": design_json(self.design),
            "testbench": str(self.sim_dir / "run.sh"),
            "emit_seconds": self.emit_seconds,
            "simulation": asdict(self.simulation) if self.simulation is not None else None,
            "synthesis": {mode: report.as_dict() for mode, report in self.synthesis.items()},
            "accuracy": asdict(self.accuracy) if self.accuracy is not None else None,
        }

    def summary_rows(self) -> list[tuple[str, str]]:
        """The figures of ``ch hardware report``, (quantity, value), in the order of the flow."""
        rows: list[tuple[str, str]] = []
        if self.accuracy is not None:
            a = self.accuracy
            rows += [("accuracy: float (before quantisation)", _fraction(a.float)),
                     ("accuracy: quantised (your graph)", _fraction(a.quantised)),
                     ("accuracy: prepared (integer reference)", _fraction(a.prepared)),
                     ("accuracy: RTL (Verilator)", _fraction(a.rtl)),
                     ("rows whose class preparation changed", f"{a.differing_rows:,}")]
        if self.simulation is not None:
            s = self.simulation
            rows += [("test rows simulated", f"{s.rows:,}"),
                     ("mismatches: RTL vs integer reference", f"{s.mismatches:,}"),
                     ("mismatches: prepared vs integer reference", f"{s.reference_mismatches:,}"),
                     ("latency (cycles, measured)", str(s.latency))]
        else:
            rows.append(("latency (cycles, as designed)", str(self.design.latency)))
        for mode, report in self.synthesis.items():
            total = report.total
            rows += [(f"LUT / FF / CARRY4 / DSP: {SYNTH_COMMANDS[mode]}",
                      f"{total.luts:,} / {total.ffs:,} / {total.carry4:,} / {total.dsps:,}"),
                     (f"logic levels: {SYNTH_COMMANDS[mode]}", str(report.logic_levels))]
        rows.append(("seconds: emit", f"{self.emit_seconds:.1f}"))
        if self.simulation is not None:
            rows += [("seconds: Verilator build", f"{self.simulation.build_seconds:.1f}"),
                     ("seconds: simulation", f"{self.simulation.run_seconds:.2f}")]
        rows += [(f"seconds: {SYNTH_COMMANDS[mode]}", f"{report.seconds:.1f}")
                 for mode, report in self.synthesis.items()]
        return rows


def _fraction(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"
