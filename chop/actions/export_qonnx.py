"""``ch export qonnx MODEL [DATASET] [--load X] [--config T.toml]``: see ``chop.workflows.export_qonnx``."""

from __future__ import annotations

import argparse
from typing import Any

COMMAND = ("export", "qonnx")
HELP = "export the quantised graph as QONNX (Quant nodes) under PROJECT/export/qonnx/ and check it with qonnx's executor"


def configure(parser: argparse.ArgumentParser) -> None:
    from chop.actions._export import add_export_arguments

    add_export_arguments(parser, "qonnx")


def _tables(outcome: Any) -> list[Any]:
    from chop.actions._export import comparison_table

    title = f"QONNX ({outcome.quant_nodes} Quant nodes): qonnx's executor vs machop's integer reference, exact"
    return [comparison_table(title, "qonnx", outcome.comparison)]


def run(args: argparse.Namespace) -> int:
    """Quantise by ``[passes.quantize]`` (as ``ch hardware`` does), export, run qonnx, print the figures."""
    from chop.actions._export import run_export
    from chop.workflows.export_qonnx import run_export_qonnx

    return run_export(args, "qonnx", run_export_qonnx, _tables,
                      lambda outcome: f"model.onnx, {outcome.file_bytes:,} bytes; summary.json", "qonnx's executor")
