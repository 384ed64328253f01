"""``ch model info NAME``: the layer table and trainable parameter count of a model."""

from __future__ import annotations

import argparse

COMMAND = ("model", "info")
HELP = "show a model's layers, input shape and trainable parameter count (no name: list the models)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="registered model name (e.g. jsc-tiny) or FILE.py:Class")
    parser.add_argument("--model-file", metavar="FILE.py:Class", help="a model class in your own file (the same as NAME FILE.py:Class)")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON only")


def run(args: argparse.Namespace) -> int:
    import json

    from chop.tools.console import console
    from rich.table import Table

    from chop.models import known_models
    from chop.models.summary import summarize

    if args.name is None and args.model_file is None:
        names = known_models()
        print(json.dumps({"models": names}) if args.json else "\n".join(names))
        return 0
    summary = summarize(args.name, args.model_file)
    if args.json:
        print(json.dumps(summary.as_json()))
        return 0
    table = Table(title=f"{summary.name}: input shape {summary.input_shape}, "
                        f"{summary.trainable_parameters:,} trainable parameters")
    for column in ("layer", "type", "output shape (per sample)", "parameters"):
        table.add_column(column, justify="right" if column == "parameters" else "left")
    for layer in summary.layers:
        table.add_row(layer.name, layer.kind, str(layer.output_shape), f"{layer.parameters:,}")
    console().print(table)
    print(f"trainable parameters: {summary.trainable_parameters}")
    return 0
