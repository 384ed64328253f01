"""``ch data validate FILE [--json]``: per-class feature statistics, mass peaks, reference accuracy."""

from __future__ import annotations

import argparse
import json

COMMAND = ("data", "validate")
HELP = "physics sanity report for a JSC file: per-class stats, mMDT mass peaks, reference classifier accuracy"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="a JSC file (HDF5, ARFF, parquet or CSV)")
    parser.add_argument("--json", action="store_true", help="print JSON only")


def run(args: argparse.Namespace) -> int:
    from chop.dataset.validate import format_report, validation_report
    from chop.tools.runtime import configure_threads

    configure_threads()
    report = validation_report(args.file)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0
