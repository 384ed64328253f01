"""``ch export onnx MODEL [DATASET] [--load X] [--config T.toml]``: see ``chop.workflows.export_onnx``."""

from __future__ import annotations

import argparse

COMMAND = ("export", "onnx")
HELP = "export the model (float, or quantised as QDQ) to ONNX under PROJECT/export/onnx/ and check it with onnxruntime"


def configure(parser: argparse.ArgumentParser) -> None:
    from chop.actions._hardware import add_model_arguments

    add_model_arguments(parser, "export/onnx")
    parser.add_argument("--json", action="store_true", help="print the outcome (summary.json's dict) on stdout only")


def run(args: argparse.Namespace) -> int:
    """Quantise by ``[passes.quantize]`` (as ``ch hardware`` does), export, compare, print the figures."""
    from chop.tools.runtime import configure_threads

    configure_threads()
    import datetime
    import json
    import sys
    from pathlib import Path

    from rich.table import Table

    from chop.actions._graph_actions import initial_model, warn_unused_flags
    from chop.actions._training import load_data, resolve
    from chop.tools.console import console
    from chop.workflows.export_onnx import run_export_onnx
    from chop.workflows.hardware import hardware_options

    action = "export onnx"
    warn_unused_flags(args, action)
    resolved, build = resolve(args, action=action)
    options = hardware_options(resolved.sections.get("hardware"))
    data = load_data(resolved)
    settings = resolved.args
    model = initial_model(build, settings, action)
    project_dir = Path(settings.project_dir) / settings.project_name(datetime.date.today().isoformat())
    outcome = run_export_onnx(model, resolved.sections.get("passes", {}), data, project_dir, options)
    c = outcome.comparison
    if args.json:
        print(json.dumps(outcome.as_json()))
    else:
        out = console()
        exact = "exact" if c.tolerance == 0 else f"atol {c.tolerance:g}"
        table = Table(title=f"ONNX ({outcome.kind}, opset {outcome.opset}): onnxruntime vs machop, {exact}")
        for column in ("rows", "max |difference|", "argmax agreement", "mismatching rows", "onnx acc", "machop acc"):
            table.add_column(column, justify="right")
        table.add_row(f"{c.rows:,}", f"{c.max_abs_difference:.3g}", f"{c.argmax_agreement:.4f}",
                      f"{c.mismatching_rows:,}", f"{c.peer_accuracy:.4f}", f"{c.machop_accuracy:.4f}")
        out.print(table)
        if outcome.kept is not None:
            out.print(f"earlier export kept: {outcome.export_dir} -> {outcome.kept.name}", soft_wrap=True)
        out.print(f"written: {outcome.export_dir} (model.onnx, {outcome.file_bytes:,} bytes; summary.json)",
                  soft_wrap=True)
    if c.mismatching_rows:
        print(f"ch: error: onnxruntime differs from machop on {c.mismatching_rows} of {c.rows} rows; "
              f"see {outcome.export_dir / 'summary.json'}, and report it as a bug", file=sys.stderr)
        return 1
    return 0
