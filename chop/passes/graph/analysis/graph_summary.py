"""Everything ``ch graph report`` shows, as data: overview, node table and costs of a traced model."""

from __future__ import annotations

from typing import Any

from chop.ir.graph.mase_graph import MaseGraph
from chop.ir.graph.mase_metadata import TensorMeta
from chop.passes.graph.analysis.add_common_metadata import add_common_metadata_analysis_pass
from chop.passes.graph.analysis.add_software_metadata import add_software_metadata_analysis_pass
from chop.passes.graph.analysis.count_ops import count_ops_analysis_pass
from chop.passes.graph.analysis.init_metadata import init_metadata_analysis_pass
from chop.passes.graph.analysis.report_graph import graph_overview, graph_report_text
from chop.passes.graph.analysis.report_node_shape import node_shape_table


def _shapes(entries: dict[str, Any]) -> dict[str, list[int]]:
    return {k: list(v.shape) for k, v in entries.items() if isinstance(v, TensorMeta) and v.torch_dtype is not None}


def graph_summary(graph: MaseGraph, dummy_in: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the metadata and cost passes and collect the results (texts under ``*_text`` keys).

    Without ``dummy_in`` the model's ``input_shape`` gives a batch of one, so shapes start with 1.
    """
    graph, _ = init_metadata_analysis_pass(graph)
    graph, _ = add_common_metadata_analysis_pass(graph, {"dummy_in": dummy_in, "add_value": False} if dummy_in
                                                 else {"add_value": False})
    graph, _ = add_software_metadata_analysis_pass(graph)
    graph, cost = count_ops_analysis_pass(graph, {"verbose": False})
    count, layer_types = graph_overview(graph)
    nodes = []
    for node in graph.fx_graph.nodes:
        common = node.meta["mase"].parameters.common
        nodes.append({"name": node.name, "op": node.op, "mase_type": common.mase_type, "mase_op": common.mase_op,
                      "args": _shapes(common.args), "results": _shapes(common.results)})
    return {
        "network_overview": count,
        "layer_types": [repr(m) for m in layer_types],
        "nodes": nodes,
        "cost": {"nodes": cost["nodes"], "total": cost["total"]},
        "graph_text": graph_report_text(graph),
        "node_text": node_shape_table(graph, fx_op=False),
        "cost_text": cost["table"],
    }
