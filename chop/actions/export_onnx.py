"""``ch export onnx MODEL [DATASET] [--load X] [--config T.toml]``: see ``chop.workflows.export_onnx``."""

from __future__ import annotations

import argparse
from typing import Any

COMMAND = ("export", "onnx")
HELP = "export the model (float, or quantised as QDQ) to ONNX under PROJECT/export/onnx/ and check it with onnxruntime"


def configure(parser: argparse.ArgumentParser) -> None:
    from chop.actions._export import add_export_arguments

    add_export_arguments(parser, "onnx")


def _tables(outcome: Any) -> list[Any]:
    from chop.actions._export import comparison_table

    c = outcome.comparison
    exact = "exact" if c.tolerance == 0 else f"atol {c.tolerance:g}"
    return [comparison_table(f"ONNX ({outcome.kind}, opset {outcome.opset}): onnxruntime vs machop, {exact}", "onnx", c)]


def run(args: argparse.Namespace) -> int:
    """Quantise by ``[passes.quantize]`` if given, export, run onnxruntime on the test split, print the figures."""
    from chop.actions._export import run_export
    from chop.workflows.export_onnx import run_export_onnx

    return run_export(args, "onnx", run_export_onnx, _tables,
                      lambda outcome: f"model.onnx, {outcome.file_bytes:,} bytes; summary.json", "onnxruntime")
