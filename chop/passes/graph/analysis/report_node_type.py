"""``report_node_type_analysis_pass``: a table of each node's fx op, MASE type and MASE op."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph.analysis.report_output import print_or_save
from chop.passes.graph.pass_args import check_pass_args, require_metadata
from chop.passes.graph.pass_result import PassResult
from chop.tools.options import Option, Options


OPTIONS = Options(Option("save_path"))


def report_node_type_analysis_pass(graph: MaseGraph, pass_args: dict[str, Any] | None = None) -> PassResult:
    """Print the table (or write it to ``save_path``); ``info["table"]`` holds the text."""
    args = check_pass_args("report_node_type_analysis_pass", pass_args, OPTIONS)
    require_metadata("report_node_type_analysis_pass", graph)
    rows = []
    for node in graph.fx_graph.nodes:
        common = node.meta["mase"].parameters.common
        out = common.results.get("data_out_0")
        rows.append([node.name, node.op, common.mase_type, common.mase_op, out.type if out is not None else ""])
    headers = ["Node name", "Fx Node op", "Mase type", "Mase op", "Value type"]
    table = tabulate(rows, headers=headers, tablefmt="grid", disable_numparse=True)
    print_or_save(table, args["save_path"])
    return PassResult(graph, {"table": table})
