"""``ch export hls4ml MODEL [DATASET] [--load X] [--config T.toml]``: see ``chop.workflows.export_hls4ml``."""

from __future__ import annotations

import argparse
from typing import Any

COMMAND = ("export", "hls4ml")
HELP = ("write the quantised model as an hls4ml project under PROJECT/export/hls4ml/ with machop's per-layer "
        "precisions and check hls4ml's C++ emulation against machop's integer reference")


def configure(parser: argparse.ArgumentParser) -> None:
    from chop.actions._export import add_export_arguments

    add_export_arguments(parser, "hls4ml")


def _tables(outcome: Any) -> list[Any]:
    from rich.table import Table

    layers = Table(title="hls4ml layers and machop's precisions (fixed<W,I>: I integer bits; all RND_CONV, SAT)")
    for column in ("layer", "machop", "hls4ml", "precisions"):
        layers.add_column(column)
    for layer in outcome.layers:
        precisions = layer.as_json()["precision"].items()
        shown = ", ".join(f"{key} {text.replace(',RND_CONV,SAT', '')}" for key, text in precisions)
        layers.add_row(layer.name, layer.machop_kind, layer.hls4ml_class, shown)
    c = outcome.comparison
    compile_note = "cached" if outcome.library.cached else f"{outcome.library.build_seconds:.1f} s"
    table = Table(title=f"hls4ml C++ emulation (g++, compile {compile_note}) vs machop's integer reference, exact")
    for column in ("rows", "mismatching rows", "hls4ml acc", "prepared acc", "quantised acc"):
        table.add_column(column, justify="right")
    table.add_row(f"{c.rows:,}", f"{c.mismatching_rows:,}", f"{c.hls4ml_accuracy:.4f}",
                  f"{c.prepared_accuracy:.4f}", f"{c.quantised_accuracy:.4f}")
    return [layers, table]


def _written(outcome: Any) -> str:
    return (f"the hls4ml project, {outcome.file_bytes:,} bytes of model sources; summary.json; "
            "vendor HLS synthesis not run: not available here")


def run(args: argparse.Namespace) -> int:
    """Quantise by ``[passes.quantize]`` (as ``ch hardware`` does), prepare, export, compile, compare, print."""
    from chop.actions._export import run_export
    from chop.workflows.export_hls4ml import run_export_hls4ml

    return run_export(args, "hls4ml", run_export_hls4ml, _tables, _written, "hls4ml's emulation")
