"""``ch sweep report DIR``: regenerate a sweep's tables and plots from its store."""

from __future__ import annotations

import argparse
import json

COMMAND = ("sweep", "report")
HELP = "rewrite results.csv, results.md and the plots of a sweep from DIR/sweep.sqlite"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", metavar="DIR", help="the sweep's output directory (holds sweep.sqlite)")
    parser.add_argument("--json", action="store_true", help="print the per-configuration summary as JSON")


def run(args: argparse.Namespace) -> int:
    from chop.sweep import SweepStore, write_report

    with SweepStore.open_existing(args.directory) as store:
        report = write_report(store, args.directory)
    if args.json:
        print(json.dumps(report.as_json()))
    else:
        from chop.actions._sweep_table import print_results

        print_results(report)
    return 0
