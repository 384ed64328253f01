"""What the ``ch export`` commands share: their flags, the run, the closing lines and the exit code.

Each export quantises by ``[passes.quantize]`` (as ``ch hardware`` does), checks the ``[hardware]``
table before the data loads, runs its workflow, and prints its own tables; a peer runtime that
differs from machop on any row makes the command fail (exit 1) after writing everything, so the
summary can be read.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def add_export_arguments(parser: argparse.ArgumentParser, target: str) -> None:
    """``ch transform``'s model arguments (outputs under ``PROJECT/export/{target}``) and ``--json``."""
    from chop.actions._hardware import add_model_arguments

    add_model_arguments(parser, f"export/{target}")
    parser.add_argument("--json", action="store_true", help="print the outcome (summary.json's dict) on stdout only")


def run_export(args: argparse.Namespace, target: str, workflow: Callable[..., Any],
               tables: Callable[[Any], list[Any]], written: Callable[[Any], str], peer: str) -> int:
    """Resolve, run ``workflow(model, passes, data, project_dir, options)``, print ``tables(outcome)``.

    ``written(outcome)`` says what was written; ``peer`` names the runtime in the mismatch error.
    """
    from chop.tools.runtime import configure_threads

    configure_threads()
    import datetime
    import json
    import sys
    from pathlib import Path

    from chop.actions._graph_actions import initial_model, warn_unused_flags
    from chop.actions._training import load_data, resolve
    from chop.tools.console import console
    from chop.workflows.hardware import hardware_options

    action = f"export {target}"
    warn_unused_flags(args, action)
    resolved, build = resolve(args, action=action)
    options = hardware_options(resolved.sections.get("hardware"))
    data = load_data(resolved)
    settings = resolved.args
    model = initial_model(build, settings, action)
    project_dir = Path(settings.project_dir) / settings.project_name(datetime.date.today().isoformat())
    outcome = workflow(model, resolved.sections.get("passes", {}), data, project_dir, options)
    c = outcome.comparison
    if args.json:
        print(json.dumps(outcome.as_json()))
    else:
        out = console()
        for table in tables(outcome):
            out.print(table)
        if outcome.kept is not None:
            out.print(f"earlier export kept: {outcome.export_dir} -> {outcome.kept.name}", soft_wrap=True)
        out.print(f"written: {outcome.export_dir} ({written(outcome)})", soft_wrap=True)
    if c.mismatching_rows:
        print(f"ch: error: {peer} differs from machop on {c.mismatching_rows} of {c.rows} rows; "
              f"see {outcome.export_dir / 'summary.json'}, and report it as a bug", file=sys.stderr)
        return 1
    return 0


def comparison_table(title: str, peer: str, comparison: Any) -> Any:
    """One row: rows, the largest difference, argmax agreement, mismatching rows, both accuracies."""
    from rich.table import Table

    c = comparison
    table = Table(title=title)
    for column in ("rows", "max |difference|", "argmax agreement", "mismatching rows", f"{peer} acc", "machop acc"):
        table.add_column(column, justify="right")
    table.add_row(f"{c.rows:,}", f"{c.max_abs_difference:.3g}", f"{c.argmax_agreement:.4f}",
                  f"{c.mismatching_rows:,}", f"{c.peer_accuracy:.4f}", f"{c.machop_accuracy:.4f}")
    return table
