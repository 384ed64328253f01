"""``ch graph report MODEL [--load PATH [--load-type T]] [--json]``: graph report, node table, cost table."""

from __future__ import annotations

import argparse
import json

COMMAND = ("graph", "report")
HELP = "trace a model and print its graph report, node table and per-node cost (FLOPs, MACs, BitOPs)"


def configure(parser: argparse.ArgumentParser) -> None:
    from chop.tools.checkpoint_load import LOAD_TYPES

    parser.add_argument("model", metavar="MODEL", help="registered model name or FILE.py:ClassName")
    parser.add_argument("--load", dest="load_name", metavar="PATH", help="checkpoint to load (pt, pl or mz)")
    parser.add_argument("--load-type", choices=LOAD_TYPES, help="checkpoint type (default: from the file)")
    parser.add_argument("--json", action="store_true", help="print JSON only")


def run(args: argparse.Namespace) -> int:
    from chop.passes.graph.analysis.graph_summary import graph_summary
    from chop.passes.graph.interface.model_source import build_mase_graph
    from chop.tools.runtime import configure_threads

    configure_threads()
    summary = graph_summary(build_mase_graph(args.model, args.load_name, args.load_type))
    if args.json:
        print(json.dumps({key: value for key, value in summary.items() if not key.endswith("_text")}, indent=2))
    else:
        print("\n\n".join([summary["graph_text"], "Nodes:\n" + summary["node_text"], "Cost per sample:\n" + summary["cost_text"]]))
    return 0
