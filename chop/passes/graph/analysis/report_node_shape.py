"""``report_node_shape_analysis_pass``: a table of each node's input and output shapes."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

from chop.ir.graph.mase_graph import MaseGraph
from chop.ir.graph.mase_metadata import TensorMeta
from chop.passes.graph.analysis.report_output import print_or_save
from chop.passes.graph.pass_args import check_pass_args, require_metadata
from chop.passes.graph.pass_result import PassResult
from chop.tools.options import Option, Options


def _shapes(entries: dict[str, Any]) -> str:
    return "\n".join(f"{name}: {entry.shape}" for name, entry in entries.items()
                     if isinstance(entry, TensorMeta) and entry.torch_dtype is not None)


def node_shape_table(graph: MaseGraph, fx_op: bool = True) -> str:
    """One row per node: name, fx op, mase type and op, operand and result shapes.

    ``fx_op=False`` leaves out the fx op column (``ch graph report`` prints the fx graph above the
    table, and without it the table fits 100 columns)."""
    rows = []
    for node in graph.fx_graph.nodes:
        common = node.meta["mase"].parameters.common
        rows.append([node.name, *([node.op] if fx_op else []), common.mase_type, common.mase_op,
                     _shapes(common.args), _shapes(common.results)])
    headers = ["Node name", *(["Fx Node op"] if fx_op else []), "Mase type", "Mase op", "Input shapes", "Output shapes"]
    return tabulate(rows, headers=headers, tablefmt="grid", disable_numparse=True)


OPTIONS = Options(Option("save_path"))


def report_node_shape_analysis_pass(graph: MaseGraph, pass_args: dict[str, Any] | None = None) -> PassResult:
    """Print the table (or write it to ``save_path``); ``info["table"]`` holds the text."""
    args = check_pass_args("report_node_shape_analysis_pass", pass_args, OPTIONS)
    require_metadata("report_node_shape_analysis_pass", graph)
    table = node_shape_table(graph)
    print_or_save(table, args["save_path"])
    return PassResult(graph, {"table": table})
