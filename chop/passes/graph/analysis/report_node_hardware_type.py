"""``report_node_hardware_type_analysis_pass``: a table of the hardware toolchain of each node.

One row per node that needs a hardware block (implicit nodes such as the input, the output and
shape plumbing are left out, as in MASE): name, fx op, the type of the value it produces, the
toolchain and the device id that ``add_hardware_metadata_analysis_pass`` assigned.
"""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

from chop.errors import PassError
from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph.analysis.report_output import print_or_save
from chop.passes.graph.pass_args import check_pass_args, require_metadata
from chop.passes.graph.pass_result import PassResult
from chop.tools.options import Option, Options

PASS = "report_node_hardware_type_analysis_pass"
HEADERS = ["Node name", "Fx Node op", "Type", "Tool Chain", "Device ID"]


def node_hardware_type_table(graph: MaseGraph) -> str:
    """The table text; a node without a toolchain means the hardware pass has not run."""
    rows = []
    for node in graph.fx_graph.nodes:
        parameters = node.meta["mase"].parameters
        hardware = parameters.hardware
        if hardware.is_implicit:
            continue
        if hardware.toolchain is None:
            raise PassError(f"{PASS}: node '{node.name}' has no hardware.toolchain; "
                            "run add_hardware_metadata_analysis_pass first")
        out = parameters.common.results.get("data_out_0")
        rows.append([node.name, node.op, out.type if out is not None else "", hardware.toolchain, hardware.device_id])
    return tabulate(rows, headers=HEADERS, tablefmt="grid", disable_numparse=True)


OPTIONS = Options(Option("save_path"))


def report_node_hardware_type_analysis_pass(graph: MaseGraph, pass_args: dict[str, Any] | None = None) -> PassResult:
    """Print the table (or write it to ``save_path``); ``info["table"]`` holds the text."""
    args = check_pass_args(PASS, pass_args, OPTIONS)
    require_metadata(PASS, graph)
    table = node_hardware_type_table(graph)
    print_or_save(table, args["save_path"])
    return PassResult(graph, {"table": table})
