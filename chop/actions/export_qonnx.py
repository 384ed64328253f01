"""``ch export qonnx MODEL [DATASET] [--load X] [--config T.toml]``: see ``chop.workflows.export_qonnx``."""

from __future__ import annotations

import argparse

COMMAND = ("export", "qonnx")
HELP = "export the quantised graph as QONNX (Quant nodes) under PROJECT/export/qonnx/ and check it with qonnx's executor"


def configure(parser: argparse.ArgumentParser) -> None:
    from chop.actions._hardware import add_model_arguments

    add_model_arguments(parser, "export/qonnx")
    parser.add_argument("--json", action="store_true", help="print the outcome (summary.json's dict) on stdout only")


def run(args: argparse.Namespace) -> int:
    """Quantise by ``[passes.quantize]`` (as ``ch hardware`` does), export, run qonnx, print the figures."""
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
    from chop.workflows.export_qonnx import run_export_qonnx
    from chop.workflows.hardware import hardware_options

    action = "export qonnx"
    warn_unused_flags(args, action)
    resolved, data, build = prepare(args, action=action)
    settings = resolved.args
    model = initial_model(build, settings, action)
    project_dir = Path(settings.project_dir) / settings.project_name(datetime.date.today().isoformat())
    outcome = run_export_qonnx(model, resolved.sections.get("passes", {}), data, project_dir,
                               hardware_options(resolved.sections.get("hardware")))
    c = outcome.comparison
    if args.json:
        print(json.dumps(outcome.as_json()))
    else:
        out = console()
        table = Table(title=f"QONNX ({outcome.quant_nodes} Quant nodes): qonnx's executor vs machop's integer "
                            f"reference, exact")
        for column in ("rows", "max |difference|", "argmax agreement", "mismatching rows", "qonnx acc", "machop acc"):
            table.add_column(column, justify="right")
        table.add_row(f"{c.rows:,}", f"{c.max_abs_difference:.3g}", f"{c.argmax_agreement:.4f}",
                      f"{c.mismatching_rows:,}", f"{c.peer_accuracy:.4f}", f"{c.machop_accuracy:.4f}")
        out.print(table)
        if outcome.kept is not None:
            out.print(f"earlier export kept: {outcome.export_dir} -> {outcome.kept.name}", soft_wrap=True)
        out.print(f"written: {outcome.export_dir} (model.onnx, {outcome.file_bytes:,} bytes; summary.json)",
                  soft_wrap=True)
    if c.mismatching_rows:
        print(f"ch: error: qonnx's executor differs from machop on {c.mismatching_rows} of {c.rows} rows; "
              f"see {outcome.export_dir / 'summary.json'}, and report it as a bug", file=sys.stderr)
        return 1
    return 0
