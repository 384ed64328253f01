"""``ch export hls4ml MODEL [DATASET] [--load X] [--config T.toml]``: see ``chop.workflows.export_hls4ml``."""

from __future__ import annotations

import argparse

COMMAND = ("export", "hls4ml")
HELP = ("write the quantised model as an hls4ml project under PROJECT/export/hls4ml/ with machop's per-layer "
        "precisions and check hls4ml's C++ emulation against machop's integer reference")


def configure(parser: argparse.ArgumentParser) -> None:
    from chop.actions._hardware import add_model_arguments

    add_model_arguments(parser, "export/hls4ml")
    parser.add_argument("--json", action="store_true", help="print the outcome (summary.json's dict) on stdout only")


def run(args: argparse.Namespace) -> int:
    """Quantise by ``[passes.quantize]`` (as ``ch hardware`` does), prepare, export, compile, compare, print."""
    from chop.tools.runtime import configure_threads

    configure_threads()
    import datetime
    import json
    import sys
    from pathlib import Path

    from rich.table import Table

    from chop.actions._graph_actions import initial_model, warn_unused_flags
    from chop.actions._training import prepare
    from chop.tools.console import console
    from chop.workflows.export_hls4ml import run_export_hls4ml
    from chop.workflows.hardware import hardware_options

    action = "export hls4ml"
    warn_unused_flags(args, action)
    resolved, data, build = prepare(args, action=action)
    settings = resolved.args
    model = initial_model(build, settings, action)
    project_dir = Path(settings.project_dir) / settings.project_name(datetime.date.today().isoformat())
    outcome = run_export_hls4ml(model, resolved.sections.get("passes", {}), data, project_dir,
                                hardware_options(resolved.sections.get("hardware")))
    c = outcome.comparison
    if args.json:
        print(json.dumps(outcome.as_json()))
    else:
        out = console()
        layers = Table(title="hls4ml layers and machop's precisions (fixed<W,I>: I integer bits; all RND_CONV, SAT)")
        for column in ("layer", "machop", "hls4ml", "precisions"):
            layers.add_column(column)
        for layer in outcome.layers:
            precisions = layer.as_json()["precision"].items()
            shown = ", ".join(f"{key} {text.replace(',RND_CONV,SAT', '')}" for key, text in precisions)
            layers.add_row(layer.name, layer.machop_kind, layer.hls4ml_class, shown)
        out.print(layers)
        compile_note = "cached" if outcome.library.cached else f"{outcome.library.build_seconds:.1f} s"
        table = Table(title=f"hls4ml C++ emulation (g++, compile {compile_note}) vs machop's integer reference, exact")
        for column in ("rows", "mismatching rows", "hls4ml acc", "prepared acc", "quantised acc"):
            table.add_column(column, justify="right")
        table.add_row(f"{c.rows:,}", f"{c.mismatching_rows:,}", f"{c.hls4ml_accuracy:.4f}",
                      f"{c.prepared_accuracy:.4f}", f"{c.quantised_accuracy:.4f}")
        out.print(table)
        if outcome.kept is not None:
            out.print(f"earlier export kept: {outcome.export_dir} -> {outcome.kept.name}", soft_wrap=True)
        out.print(f"written: {outcome.export_dir} (the hls4ml project, {outcome.file_bytes:,} bytes of model sources; "
                  f"summary.json); vendor HLS synthesis was not run (not available here)", soft_wrap=True)
    if c.mismatching_rows:
        print(f"ch: error: hls4ml's emulation differs from machop's integer reference on {c.mismatching_rows} of "
              f"{c.rows} rows; see {outcome.export_dir / 'summary.json'}, and report it as a bug", file=sys.stderr)
        return 1
    return 0
