"""``ch data info DATASET [--data-path FILE] [--json]``: rows, splits, classes, feature means, provenance."""

from __future__ import annotations

import argparse
import json

COMMAND = ("data", "info")
HELP = "describe a dataset: rows per split and class, feature means, source and provenance"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", metavar="DATASET", help="jsc or jsc-pythia")
    parser.add_argument("--data-path", metavar="PATH", help="jsc only: the data file, or a directory holding it")
    parser.add_argument("--json", action="store_true", help="print JSON only")


def run(args: argparse.Namespace) -> int:
    from chop.dataset import load_dataset
    from chop.dataset.summary import format_summary, summarize

    summary = summarize(load_dataset(args.dataset, args.data_path))
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return 0
