"""``report_graph_analysis_pass``: the fx graph, node counts per fx op, and the module list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph.pass_args import check_pass_args
from chop.passes.graph.pass_result import PassResult
from chop.tools.atomic import atomic_write_text
from chop.tools.options import Option, Options

FX_OPS = ("placeholder", "get_attr", "call_function", "call_method", "call_module", "output")


def graph_overview(graph: MaseGraph) -> tuple[dict[str, int], list[Any]]:
    """Node counts per fx op (MASE's order) and the modules called, in graph order."""
    count = dict.fromkeys(FX_OPS, 0)
    layer_types = []
    modules = graph.modules
    for node in graph.fx_graph.nodes:
        count[node.op] += 1
        if node.op == "call_module":
            layer_types.append(modules[str(node.target)])
    return count, layer_types


def graph_report_text(graph: MaseGraph) -> str:
    count, layer_types = graph_overview(graph)
    return f"{graph.fx_graph}\nNetwork overview:\n{count}\nLayer types:\n{layer_types}"


OPTIONS = Options(Option("file_name"))


def report_graph_analysis_pass(graph: MaseGraph, pass_args: dict[str, Any] | str | Path | None = None) -> PassResult:
    """Print (or write to ``file_name``) the graph, ``Network overview:`` and ``Layer types:`` as MASE does.

    Earlier MASE versions took the file name itself as the second argument; that works too.
    """
    if isinstance(pass_args, (str, Path)):
        pass_args = {"file_name": pass_args}
    args = check_pass_args("report_graph_analysis_pass", pass_args, OPTIONS)
    count, layer_types = graph_overview(graph)
    text = graph_report_text(graph)
    if args["file_name"]:
        atomic_write_text(args["file_name"], text + "\n")
    else:
        print(text)
    return PassResult(graph, {"network_overview": count, "layer_types": [repr(m) for m in layer_types], "text": text})
