"""What the ``ch hardware`` commands share: their flags, the run (with progress on a terminal), the output.

Each command takes ``ch transform``'s model arguments (``MODEL [DATASET] --load --config
--project-dir --project``...) and the ``[hardware]`` options as flags; a flag given wins over the
TOML's key, as everywhere in ``ch``.
"""

from __future__ import annotations

import argparse
from typing import Any

# flag destination -> [hardware] key; every flag defaults to None ("not given")
HARDWARE_FLAGS = ("input_format", "fold_batchnorm", "pipeline", "products", "linear_impl", "top_name", "nodsp", "rows")


def add_model_arguments(parser: argparse.ArgumentParser, outputs: str) -> None:
    """``ch transform``'s model arguments (MODEL, DATASET, ``--load``, ``--config``...); outputs go under ``outputs``."""
    from chop.actions._graph_actions import USED_FLAGS
    from chop.config.mase_args import MASE_FLAGS

    shown = {**USED_FLAGS, "project_dir": f"outputs go under DIR/PROJECT/{outputs}/ (default ./mase_output)"}
    parser.add_argument("model", nargs="?", default=None, help="model name or FILE.py:Class (or `model` in the TOML)")
    parser.add_argument("dataset", nargs="?", default=None, help="dataset name (or `dataset` in the TOML)")
    for flags, dest, kwargs in MASE_FLAGS:
        parser.add_argument(*flags, dest=dest, default=None, **{**kwargs, "help": shown.get(dest, argparse.SUPPRESS)})


def add_hardware_arguments(parser: argparse.ArgumentParser) -> None:
    """``ch transform``'s model arguments, the ``[hardware]`` options and ``--json``."""
    add_model_arguments(parser, "hardware")
    group = parser.add_argument_group("hardware options (also the [hardware] table of the TOML; flags win)")
    group.add_argument("--input-format", metavar="W,F", default=None,
                       help="the graph input's format, width,frac[,signed] (default: the data_in format of its "
                            "first quantised consumer)")
    group.add_argument("--fold-batchnorm", action=argparse.BooleanOptionalAction, default=None,
                       help="merge batch norms into a neighbouring linear where the algebra allows (default); "
                            "--no-fold-batchnorm makes each a fixed-point affine layer")
    group.add_argument("--pipeline", default=None, metavar="STYLE",
                       help="layer: a register after each layer (default); none: combinational; split: also one "
                            "before each requantiser")
    group.add_argument("--products", default=None, metavar="STYLE",
                       help="constant products: shared shift-and-add trees (default), csd (one tree per row) or multiply")
    group.add_argument("--linear-impl", default=None, metavar="IMPL",
                       help="linear layers: machop's own adder trees (default) or da4ml's adder graphs (smaller)")
    group.add_argument("--top-name", default=None, metavar="NAME", help="the top module's name (default top)")
    group.add_argument("--nodsp", action=argparse.BooleanOptionalAction, default=None,
                       help="synthesise only with -nodsp (--no-nodsp: only with DSPs; default: both)")
    group.add_argument("--rows", type=int, default=None, metavar="N",
                       help="test rows to simulate and score (default: the whole test split)")
    parser.add_argument("--json", action="store_true", help="print the outcome (report.json's dict) on stdout only")


def run_hardware_command(args: argparse.Namespace, command: str) -> int:
    """Resolve the arguments, run the flow with progress on a terminal, print the outcome."""
    from chop.tools.runtime import configure_threads

    configure_threads()
    import datetime
    import sys
    from pathlib import Path

    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from chop.actions._graph_actions import initial_model, warn_unused_flags
    from chop.actions._training import prepare
    from chop.workflows.hardware import hardware_options, run_hardware

    action = f"hardware {command}"
    warn_unused_flags(args, action)
    resolved, data, build = prepare(args, action=action)
    options = hardware_options(resolved.sections.get("hardware"), {key: getattr(args, key) for key in HARDWARE_FLAGS})
    settings = resolved.args
    model = initial_model(build, settings, action)
    project_dir = Path(settings.project_dir) / settings.project_name(datetime.date.today().isoformat())
    # the spinner goes to stderr and only to a terminal, so logs and --json output stay clean
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=Console(stderr=True),
                  transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("preparing", total=None)
        outcome = run_hardware(command, model, resolved.sections.get("passes", {}), data, project_dir, options,
                               progress=lambda step: bar.update(task, description=step))
    return print_outcome(outcome, args.json)


def print_outcome(outcome: Any, as_json: bool) -> int:
    """The command's tables and paths (or its JSON); 1 when the RTL differs from the integer reference."""
    import json
    import sys

    from chop.tools.console import console

    if as_json:
        print(json.dumps(outcome.as_json()))
    else:
        out = console()
        for table in _tables(outcome):
            if isinstance(table, str):  # a synthesis table, already laid out for 100 columns
                print(table)
            else:
                out.print(table)
        if outcome.kept is not None:
            out.print(f"earlier run kept: {outcome.hardware_dir} -> {outcome.kept.name}", soft_wrap=True)
        out.print(f"written: {outcome.hardware_dir} (rtl/, sim/run.sh{', synth/' if outcome.synthesis else ''}, "
                  f"report.json)", soft_wrap=True)
    simulation = outcome.simulation
    if simulation is not None and simulation.mismatches:
        print(f"ch: error: the RTL differs from the integer reference on {simulation.mismatches} of {simulation.rows} "
              f"rows; rerun `{outcome.sim_dir / 'run.sh'}` to see them, and report it as a bug", file=sys.stderr)
        return 1
    return 0


def _tables(outcome: Any) -> list[Any]:
    from rich.table import Table

    from chop.hardware.fixed import FixedFormat
    from chop.workflows.hardware_report import SYNTH_COMMANDS

    if outcome.command == "report":
        rows = outcome.simulation.rows if outcome.simulation is not None else 0
        table = Table(title=f"Hardware report: {outcome.hardware_dir.parent.name}, {rows:,} test rows")
        table.add_column("quantity")
        table.add_column("value", justify="right")
        for quantity, value in outcome.summary_rows():
            table.add_row(quantity, value)
        return [table]
    design = outcome.design
    layers = Table(title=f"{design.top_name}: input {design.input_format}, {len(design.layers)} layers, "
                         f"latency {design.latency} cycles")
    for column in ("node", "kind", "in", "accumulator", "out", "cycles"):
        layers.add_column(column, justify="right" if column == "cycles" else "left")
    nodes = outcome.preparation["nodes"]
    for layer in design.layers:
        formats = nodes[layer.node]["formats"]
        shown = [str(FixedFormat(*formats[operand]["format"])) if operand in formats else "-"
                 for operand in ("data_in_0", "accumulator", "data_out_0")]
        layers.add_row(layer.node, layer.kind, *shown, str(layer.latency))
    tables: list[Any] = [layers]
    if outcome.simulation is not None:
        s = outcome.simulation
        simulation = Table(title="Verilator: RTL vs integer reference, one row per cycle")
        for column in ("rows", "mismatches", "RTL acc", "reference acc", "latency", "build s", "run s"):
            simulation.add_column(column, justify="right")
        simulation.add_row(f"{s.rows:,}", f"{s.mismatches:,}", f"{s.rtl_accuracy:.4f}", f"{s.reference_accuracy:.4f}",
                           str(s.latency), f"{s.build_seconds:.1f}", f"{s.run_seconds:.2f}")
        tables.append(simulation)
    for mode, report in outcome.synthesis.items():
        tables.append(f"{SYNTH_COMMANDS[mode]}:\n{report.table()}")
    return tables
