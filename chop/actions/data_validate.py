"""``ch data validate FILE [--against-real [--epochs N]] [--json]``: physics sanity report of a JSC file.

Plain: per-class feature statistics, mass peaks and a reference accuracy. With ``--against-real``:
the per-class AUCs of the spec's MLP and 20-tree GBC, the heavy-vs-light TPRs and the per-class
fingerprints, each next to the real dataset's value, and the accuracy-gap verdict of issue 12.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

COMMAND = ("data", "validate")
HELP = ("physics sanity report for a JSC file: per-class stats, mMDT mass peaks, reference classifier accuracy; "
        "--against-real compares AUCs and fingerprints with the real dataset")
DEFAULT_EPOCHS = 100   # MlpRecipe's default, repeated so that `ch --help` does not import torch


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="a JSC file (HDF5, ARFF, parquet or CSV)")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    parser.add_argument("--against-real", action="store_true",
                        help="compare AUCs, TPRs and per-class fingerprints with the real dataset (trains an MLP)")
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS,
                        help=f"MLP training epochs for --against-real (default {DEFAULT_EPOCHS})")


def run(args: argparse.Namespace) -> int:
    from chop.tools.runtime import configure_threads

    configure_threads()
    if args.against_real:
        return _against_real(args)
    from chop.dataset.validate import format_report, validation_report

    report = validation_report(args.file)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def _against_real(args: argparse.Namespace) -> int:
    from chop.errors import ConfigError
    from chop.workflows.fidelity import MlpRecipe, fidelity_report

    if args.epochs < 1:
        raise ConfigError(f"--epochs must be at least 1 (got {args.epochs})")
    report = fidelity_report(args.file, MlpRecipe(epochs=args.epochs))
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        _print_table(report.as_json())
    return 0


def _print_table(report: dict[str, Any]) -> None:
    from rich.table import Table

    from chop.tools.console import console

    table = Table(title=f"{report['source']} against the real JSC dataset", title_justify="left")
    for name, justify in (("section", "left"), ("quantity", "left"), ("class", "left"),
                          ("file", "right"), ("real", "right"), ("file − real", "right")):
        table.add_column(name, justify=justify)
    for line in report["comparisons"]:
        table.add_row(line["section"], line["quantity"], line["cls"], f"{line['file']:.4g}", f"{line['real']:.4g}",
                      f"{line['difference']:+.3g}")
    out = console()
    out.print(table)
    verdict = report["verdict"]
    misses = [name for name, ok in verdict["auc_ok"].items() if not ok]
    out.print(f"rows {report['rows']} (train {report['train_rows']}, test {report['test_rows']}); "
              f"MLP: {report['mlp']}; GBC: {report['gbc']}", highlight=False)
    out.print("goal (MLP accuracy within 1 point of 75-76.4 %, every class AUC within 1.5 points): "
              + ("met" if verdict["passed"] else
                 "missed (" + ", ".join((["accuracy"] if not verdict["accuracy_ok"] else [])
                                        + ([f"AUC of {', '.join(misses)}"] if misses else [])) + ")"),
              highlight=False)
    out.print("gluon jet pT, a fingerprint of the spec, is no column of a JSC file and is not compared",
              highlight=False)
