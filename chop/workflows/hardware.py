"""``ch hardware emit|simulate|synth|report`` as library calls: quantise, prepare, emit, simulate, synthesise.

The flow: the model is traced (as ``ch transform`` does) and quantised by the config's
``[passes.quantize]``, or, without one, used as it is (a saved ``.mz`` graph that is already
quantised); ``prepare_hardware_transform_pass`` makes the hardware graph; MASE's four emit passes
write it with ``project_dir`` = ``{--project-dir}/{project}``; Verilator runs the test rows through
it; Yosys ``synth_xilinx`` measures it. Everything lands in ``{project_dir}/hardware/``::

    rtl/            top.sv, one module per layer, the components, one .mem file per constant
    sim/            MASE's testbench (harness.cpp, build.sh, run.sh, inputs.txt, expected.txt), the build
    synth/dsp/      synth.json and yosys.log of synth_xilinx
    synth/nodsp/    the same with -nodsp
    report.json     what the run found (``HardwareOutcome.as_json``), written last

**A run is complete when ``report.json`` exists.** Everything that can fail without writing
(building and quantising the model, preparation, planning the RTL, finding Verilator and Yosys)
happens first. Then an earlier ``hardware/`` is moved aside to ``hardware-vN`` (never
overwritten), and the new run writes. If it fails or is interrupted (Ctrl-C), its partial
``hardware/`` is removed and the earlier run is moved back, so the path holds either the earlier
complete run or the new complete one, never half of one.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from chop.dataset.cache import cache_root
from chop.errors import ConfigError, MachopError, unknown
from chop.hardware.estimate import estimate_design
from chop.hardware.ops import FixedInput
from chop.hardware.reference import accuracy_before_after, integer_reference, prepared_codes
from chop.hardware.rtl import LINEAR_IMPLS, PIPELINES, PRODUCT_STYLES, RtlDesign, plan_rtl
from chop.hardware.simulate import simulate
from chop.hardware.synth import synthesize
from chop.hardware.synth_report import SynthesisReport
from chop.hardware.tools import find_tool
from chop.ir.graph.mase_graph import MaseGraph
from chop.models.input_shape import example_batch
from chop.passes.graph.transforms.hardware import prepare_hardware_transform_pass
from chop.passes.graph.transforms.verilog import (emit_bram_transform_pass, emit_internal_rtl_transform_pass,
                                                  emit_verilog_tb_transform_pass, emit_verilog_top_transform_pass)
from chop.tools.atomic import atomic_write_text
from chop.tools.logger import get_logger
from chop.tools.modes import eval_mode
from chop.tools.options import Option, Options, Wording
from chop.tools.versions import replacing
from chop.workflows.hardware_report import SYNTH_MODES, Accuracy, HardwareOutcome, SimulationOutcome
from chop.workflows.transform import TRANSFORM_PASSES, dummy_input, graph_with_metadata

log = get_logger(__name__)

HARDWARE_DIR, REPORT_FILE = "hardware", "report.json"
COMMANDS = ("emit", "simulate", "synth", "report")
SIMULATING, SYNTHESISING = ("simulate", "report"), ("synth", "report")
RUNTIME_CACHE = "verilator-runtime"  # under machop's cache root: Verilator's runtime objects, shared by builds

Progress = Callable[[str], None]

HARDWARE_OPTIONS = Options(
    Option("input_format", (list, tuple, str)),
    Option("fold_batchnorm", bool, True),
    Option("pipeline", str, "layer"),
    Option("products", str, "shared"),
    Option("linear_impl", str, "machop"),
    Option("top_name", str, "top"),
    Option("nodsp", (bool, str)),
    Option("rows", int),
)
HARDWARE_KEYS = Wording(
    error=ConfigError, logger=log,
    unknown="{where}: unknown key `{key}`{hint}; known: {known}",
    ignored="{where}: `{key}` has no effect ({reason})",
    wrong_type="{where}: `{key}` must be {expected}, got {value}",
)
"""Messages about the keys of the ``[hardware]`` table and the flags that override them."""


@dataclass(frozen=True)
class HardwareOptions:
    """The ``[hardware]`` table, checked: how to prepare, emit, simulate and synthesise.

    ``input_format``: ``[width, frac]`` or ``[width, frac, signed]`` of the graph input (default:
    the ``data_in`` format of its first quantised consumer); ``fold_batchnorm``: merge batch norms
    into a neighbouring linear where the algebra allows; ``pipeline``/``products``/``linear_impl``:
    the emitter's options (``linear_impl`` ``da4ml``: linear layers as da4ml's adder graphs); ``top_name``: the top module; ``nodsp``: synthesise only with ``-nodsp`` (True), only
    without (False), or both (None); ``rows``: how many test rows to simulate (None: the whole split).
    """

    input_format: tuple[int, ...] | None = None
    fold_batchnorm: bool = True
    pipeline: str = "layer"
    products: str = "shared"
    linear_impl: str = "machop"
    top_name: str = "top"
    nodsp: bool | None = None
    rows: int | None = None

    @property
    def synth_modes(self) -> tuple[bool, ...]:
        return (False, True) if self.nodsp is None else (self.nodsp,)


def _input_format(value: Any, where: str) -> tuple[int, ...] | None:
    """``"8,4"`` (a flag), ``[8, 4]`` or ``[8, 4, 0]`` (the TOML) as a tuple of ints."""
    if value is None:
        return None
    items = [item.strip() for item in value.split(",")] if isinstance(value, str) else list(value)
    try:
        numbers = tuple(int(item) if isinstance(item, str) else item for item in items)
    except ValueError:
        numbers = ()
    if len(numbers) not in (2, 3) or any(isinstance(n, bool) or not isinstance(n, int) for n in numbers):
        raise ConfigError(f"{where}: input_format = {value!r}: expected width,frac (e.g. \"8,4\" or [8, 4]) "
                          f"or width,frac,signed (signed 1 or 0)")
    return numbers


def _nodsp(value: Any, where: str) -> bool | None:
    if value is None or value == "both":
        return None
    if isinstance(value, bool):
        return value
    raise ConfigError(f"{where}: nodsp = {value!r}: expected true (only -nodsp), false (only with DSPs) or \"both\"")


def _choice(value: str, choices: tuple[str, ...], key: str, where: str) -> str:
    if value not in choices:
        raise ConfigError(f"{where}: {key} = {value!r}: {unknown(key, value, choices)}")
    return value


def hardware_options(table: Mapping[str, Any] | None, flags: Mapping[str, Any] | None = None) -> HardwareOptions:
    """The ``[hardware]`` table with ``flags`` (the command line's, None where not given) on top: flags win."""
    if table is not None and not isinstance(table, Mapping):
        raise ConfigError(f"[hardware] must be a table, got {table!r}")
    given = HARDWARE_OPTIONS.check(table or {}, "[hardware]", HARDWARE_KEYS)
    given.update(HARDWARE_OPTIONS.check({k: v for k, v in (flags or {}).items() if v is not None}, "command line",
                                        HARDWARE_KEYS))
    values = {option.name: given.get(option.name, option.default) for option in HARDWARE_OPTIONS}
    where = "[hardware]"
    rows = values["rows"]
    if rows is not None and rows <= 0:
        raise ConfigError(f"{where}: rows = {rows}: give a positive number of test rows (or leave it out for all)")
    return HardwareOptions(
        input_format=_input_format(values["input_format"], where),
        fold_batchnorm=values["fold_batchnorm"],
        pipeline=_choice(values["pipeline"], PIPELINES, "pipeline", where),
        products=_choice(values["products"], PRODUCT_STYLES, "products", where),
        linear_impl=_choice(values["linear_impl"], LINEAR_IMPLS, "linear_impl", where),
        top_name=values["top_name"],
        nodsp=_nodsp(values["nodsp"], where),
        rows=rows,
    )


@dataclass(frozen=True)
class QuantisedGraphs:
    """The user's quantised graph and, when this run quantised it, the float graph it came from."""

    float: MaseGraph | None
    quantised: MaseGraph


def quantised_graphs(model: nn.Module, passes: Mapping[str, Any], data: Any) -> QuantisedGraphs:
    """Trace ``model`` and run the ``[passes.*]`` tables (only ``quantize``, as ``ch transform`` runs it).

    Without ``[passes.quantize]`` the traced model is used as it is: a graph loaded from a saved
    ``.mz`` that is already quantised (a float one fails in preparation, naming its first float node).
    """
    for name in passes:
        if name not in TRANSFORM_PASSES:
            raise ConfigError(f"[passes.{name}]: {unknown('transform pass', name, TRANSFORM_PASSES)}")
    graph = graph_with_metadata(model, dummy_input(model, data.x_train))
    if not passes:
        return QuantisedGraphs(None, graph)
    float_graph = copy.deepcopy(graph)
    for name, pass_args in passes.items():
        graph, _ = TRANSFORM_PASSES[name](graph, pass_args)
    return QuantisedGraphs(float_graph, graph)


def prepare_graph(quantised: MaseGraph, options: HardwareOptions) -> tuple[MaseGraph, dict[str, Any]]:
    """The prepared graph (every compute node a fixed-point twin) and the preparation's ``info``."""
    args: dict[str, Any] = {"fold_batchnorm": options.fold_batchnorm}
    if options.input_format is not None:
        args["input_format"] = list(options.input_format)
    return prepare_hardware_transform_pass(quantised, args)


def split_rows(model: nn.Module, data: Any, rows: int | None) -> tuple[Tensor, Tensor]:
    """The first ``rows`` rows of the test split (all when None), shaped as ``model`` takes them, and labels."""
    available = len(data.x_test)
    if rows is not None and rows > available:
        raise ConfigError(f"[hardware]: rows = {rows}, but the test split has {available:,} rows; "
                          f"give at most {available} (or leave rows out for all)")
    count = available if rows is None else rows
    return example_batch(model, data.x_test[:count]), torch.as_tensor(data.y_test[:count]).long()


def emit_design(prepared: MaseGraph, project_dir: Path, options: HardwareOptions, x: Tensor) -> RtlDesign:
    """MASE's four emit passes into ``{project_dir}/hardware/``; the testbench holds the rows ``x``."""
    args = {"project_dir": str(project_dir), "top_name": options.top_name}
    _, info = emit_verilog_top_transform_pass(prepared, {**args, "pipeline": options.pipeline,
                                                         "products": options.products,
                                                         "linear_impl": options.linear_impl})
    emit_internal_rtl_transform_pass(prepared, args)
    emit_bram_transform_pass(prepared, args)
    emit_verilog_tb_transform_pass(prepared, {**args, "test_inputs": [x], "trans_num": 1,
                                              "linear_impl": options.linear_impl})
    return info["design"]


def _accuracy(predicted: Tensor, y: Tensor) -> float:
    return float((predicted.reshape(len(y), -1).argmax(dim=1) == y).double().mean())


def simulate_design(design: RtlDesign, prepared: MaseGraph, x: Tensor, y: Tensor, sim_dir: Path,
                    progress: Progress | None = None) -> SimulationOutcome:
    """Run ``x`` through the RTL in Verilator and compare every output code with the integer reference."""
    codes = next(m for m in prepared.model.modules() if isinstance(m, FixedInput)).integer_forward(x)
    reference = integer_reference(prepared, x)
    if progress is not None:
        progress(f"Verilator: building and simulating {len(x):,} rows")
    result = simulate(design, codes, sim_dir, runtime_cache=cache_root() / RUNTIME_CACHE)
    differing = (result.outputs.reshape(len(x), -1) != reference.reshape(len(x), -1)).any(dim=1)
    software = (prepared_codes(prepared, x).reshape(len(x), -1) != reference.reshape(len(x), -1)).any(dim=1)
    return SimulationOutcome(len(x), int(differing.sum()), int(software.sum()), _accuracy(result.outputs, y),
                             _accuracy(reference, y), result.latency, result.cycles,
                             round(result.build_seconds, 3), round(result.run_seconds, 3))


def synthesize_design(design: RtlDesign, synth_dir: Path, modes: tuple[bool, ...] = (False, True),
                      progress: Progress | None = None, estimate: int | None = None) -> dict[str, SynthesisReport]:
    """Yosys ``synth_xilinx`` of ``design`` once per mode (``nodsp`` False/True) into ``synth_dir/{dsp,nodsp}``.

    ``estimate``: a LUT estimate of the design, passed on to ``synthesize`` (which warns before a
    run that would take many minutes).
    """
    reports = {}
    for nodsp in modes:
        mode = SYNTH_MODES[nodsp]
        step = f"Yosys synth_xilinx{' -nodsp' if nodsp else ''}"
        if progress is not None:
            progress(step)
        yosys_steps = None if progress is None else (lambda line, s=step: progress(f"{s}: {line}"))
        reports[mode] = synthesize(design.files, design.top_name, synth_dir / mode, nodsp=nodsp, estimate=estimate,
                                   progress=yosys_steps)
    return reports


def stage_accuracy(graphs: QuantisedGraphs, prepared: MaseGraph, x: Tensor, y: Tensor,
                   rtl_accuracy: float | None) -> Accuracy:
    """Accuracy of the float, quantised and prepared graphs on rows ``x``, next to the RTL's."""
    float_accuracy = None
    if graphs.float is not None:
        with torch.no_grad(), eval_mode(graphs.float.model):
            float_accuracy = _accuracy(graphs.float.model(x), y)
    compared = accuracy_before_after(graphs.quantised, prepared, x, y)
    return Accuracy(float_accuracy, compared["quantised_accuracy"], compared["prepared_accuracy"], rtl_accuracy,
                    len(compared["differing_rows"]))


def run_hardware(command: str, model: nn.Module, passes: Mapping[str, Any], data: Any, project_dir: str | Path,
                 options: HardwareOptions = HardwareOptions(), *, progress: Progress | None = None,
                 estimate: int | None = None) -> HardwareOutcome:
    """Run ``ch hardware {command}`` on ``model``: ``emit`` the RTL and testbench, and for ``simulate``,
    ``synth`` and ``report`` also that step (``report``: all of them, with the accuracy of each stage).

    ``passes`` are the config's ``[passes.*]`` tables, ``data`` a ``DatasetSplits``, ``project_dir``
    the folder ``hardware/`` goes into; ``progress`` receives each long step as it starts;
    ``estimate``, the design's LUTs as far as known, is passed to the synthesis step (see
    ``synthesize_design``), which warns before a long Yosys run; by default it is the fast
    estimate of ``chop.hardware.estimate``.
    """
    if command not in COMMANDS:
        raise MachopError(unknown("hardware command", command, COMMANDS))
    graphs = quantised_graphs(model, passes, data)
    prepared, info = prepare_graph(graphs.quantised, options)
    x, y = split_rows(model, data, options.rows)
    plan_rtl(prepared.model, top_name=options.top_name, pipeline=options.pipeline, products=options.products,
             linear_impl=options.linear_impl)
    find_tool("verilator")  # the testbench's build.sh names it
    if command in SYNTHESISING:
        find_tool("yosys")
        if estimate is None:
            estimate = estimate_design(prepared.model, pipeline=options.pipeline, products=options.products).luts
    hardware_dir = Path(project_dir) / HARDWARE_DIR
    with replacing(hardware_dir) as kept:
        if progress is not None:
            progress("emitting the RTL and the testbench")
        started = time.perf_counter()
        design = emit_design(prepared, Path(project_dir), options, x)
        emit_seconds, sim_dir = round(time.perf_counter() - started, 3), hardware_dir / "sim"
        simulation = simulate_design(design, prepared, x, y, sim_dir, progress) if command in SIMULATING else None
        synthesis = {}
        if command in SYNTHESISING:
            synthesis = synthesize_design(design, hardware_dir / "synth", options.synth_modes, progress, estimate)
        accuracy = None
        if command == "report":
            accuracy = stage_accuracy(graphs, prepared, x, y, simulation.rtl_accuracy if simulation else None)
        outcome = HardwareOutcome(command, hardware_dir, kept, info, design, sim_dir, emit_seconds, simulation,
                                  synthesis, accuracy)
        atomic_write_text(hardware_dir / REPORT_FILE, json.dumps(outcome.as_json(), indent=2) + "\n")
    return outcome
