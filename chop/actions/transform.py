"""``ch transform [MODEL] [DATASET] --config X.toml``: run the TOML's ``[passes.*]`` on a model (MASE's transform)."""

from __future__ import annotations

import argparse
from typing import Any

COMMAND = ("transform",)
HELP = "run the [passes.*] of the TOML (e.g. quantize) on a model; saves software/transform/transformed_ckpt/"


def configure(parser: argparse.ArgumentParser) -> None:
    from chop.actions._graph_actions import add_graph_action_arguments

    add_graph_action_arguments(parser)
    parser.add_argument("--report", action="store_true",
                        help="float vs quantised accuracy (validation, test), clamped values per node, BitOPs, "
                             "estimated LUTs/FFs")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON on stdout only")


def _histogram_table(name: str, counts: list[Any]) -> Any:
    from rich.markup import escape
    from rich.table import Table

    from chop.passes.graph.transforms.summarize_quantization import HISTOGRAM_HEADER

    table = Table(title=escape(f"[passes.{name}] summary"))
    for column in HISTOGRAM_HEADER:
        table.add_column(column, justify="left" if column in ("Original type", "OP") else "right")
    for c in counts:
        table.add_row(c.original_type, c.op, str(c.total), str(c.changed), str(c.unchanged))
    return table


def _report_tables(report: Any) -> list[Any]:
    from rich.table import Table

    accuracy = Table(title="Accuracy: float vs quantised")
    for column in ("split", "float acc", "quantised acc", "change", "float loss", "quantised loss"):
        accuracy.add_column(column, justify="left" if column == "split" else "right")
    for a in report.accuracy:
        accuracy.add_row(a.split, f"{a.float_acc:.4f}", f"{a.quantized_acc:.4f}", f"{a.quantized_acc - a.float_acc:+.4f}",
                         f"{a.float_loss:.4f}", f"{a.quantized_loss:.4f}")
    clamps = Table(title="Values clamped by the quantisers (activations: validation split; parameters: once)")
    for column in ("node", "operand", "format", "range", "values", "overflow", "underflow"):
        clamps.add_column(column, justify="right" if column in ("values", "overflow", "underflow") else "left")
    for c in report.clamps:
        clamps.add_row(c.node, c.operand, c.quantizer, f"[{c.low:g}, {c.high:g}]", f"{c.values:,}", f"{c.overflow:,}",
                       f"{c.underflow:,}")
    ratio = report.bitops_after / report.bitops_before if report.bitops_before else float("nan")
    bitops = Table(title="BitOPs per sample")
    for column in ("before", "after", "after / before"):
        bitops.add_column(column, justify="right")
    bitops.add_row(f"{report.bitops_before:,}", f"{report.bitops_after:,}", f"{ratio:.4f}")
    return [accuracy, clamps, bitops]


def _hardware_table(hardware: Any) -> Any:
    """The estimated LUTs/FFs per layer of the prepared graph, or the one line saying why there are none."""
    from rich.markup import escape
    from rich.table import Table

    estimate = hardware.estimate
    if estimate is None:
        return escape(f"hardware estimate: none, the graph cannot be prepared for hardware: {hardware.unavailable}")
    table = Table(title=f"Estimated hardware (Yosys{' -nodsp' if estimate.nodsp else ''}, pipeline {estimate.pipeline})")
    for column in ("layer", "kind", "LUTs", "FFs", "CARRY4"):
        table.add_column(column, justify="left" if column in ("layer", "kind") else "right")
    for layer in estimate.layers:
        table.add_row(layer.node, layer.kind, f"{layer.luts:,}", f"{layer.ffs:,}", f"{layer.carry4:,}")
    table.add_row("total", "", f"{estimate.luts:,}", f"{estimate.ffs:,}", f"{estimate.carry4:,}")
    return table


def run(args: argparse.Namespace) -> int:
    from chop.tools.runtime import configure_threads

    configure_threads()
    import datetime
    import json
    from dataclasses import asdict

    from chop.actions._graph_actions import initial_model, warn_unused_flags
    from chop.actions._training import prepare
    from chop.workflows.transform import run_transform
    from chop.tools.console import console

    warn_unused_flags(args, "transform")
    resolved, data, build = prepare(args, action="transform")
    settings = resolved.args
    model = initial_model(build, settings, "transform")
    software_dir = settings.software_dir(datetime.date.today().isoformat())
    outcome = run_transform(model, resolved.sections.get("passes", {}), data, software_dir, report=args.report)
    if args.json:
        print(json.dumps({
            "transformed_ckpt": str(outcome.checkpoint_dir),
            "kept": [str(path) for path in outcome.kept],
            "histograms": {name: [asdict(c) for c in counts] for name, counts in outcome.histograms.items()},
            "report": outcome.report.as_json() if outcome.report is not None else None,
        }))
        return 0
    out = console()
    for name, counts in outcome.histograms.items():
        out.print(_histogram_table(name, counts))
    if outcome.report is not None:
        for table in _report_tables(outcome.report):
            out.print(table)
        out.print(_hardware_table(outcome.report.hardware), soft_wrap=True)
    # a saved graph knows its model, not its dataset: the command names the dataset it was made with
    out.print(f"transformed graph: {outcome.checkpoint_dir} (evaluate it with "
              f"`ch test {settings.dataset} --load {outcome.checkpoint_dir / 'graph_module.mz'}`)", soft_wrap=True)
    return 0
