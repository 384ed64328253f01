"""What ``ch graph profile`` does, as a library call: profile every weight and activation, draw the boxes."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from tabulate import tabulate

from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph.analysis.add_common_metadata import add_common_metadata_analysis_pass
from chop.passes.graph.analysis.add_software_metadata import add_software_metadata_analysis_pass
from chop.passes.graph.analysis.init_metadata import init_metadata_analysis_pass
from chop.passes.graph.analysis.profile_statistics import node_parameters, profile_statistics_analysis_pass

IMPLICIT = ("implicit_func", "placeholder", "get_attr", "output")
STATISTICS = {"range_min_max": {"dims": "all"}, "variance_online": {"dims": "all"}}


def profile_graph(graph: MaseGraph, input_generator: Any, num_samples: int, plot_path: str | Path | None) -> dict[str, Any]:
    """Profile the weights of every node that has parameters and the inputs of every computing node.

    Returns ``{"weights": ..., "activations": ..., "plot_path": ...}`` as the profiler pass does,
    plus ``"table"``: one row per tensor with count, min, max, mean and standard deviation.
    """
    batch = next(iter(input_generator))
    graph, _ = init_metadata_analysis_pass(graph)
    graph, _ = add_common_metadata_analysis_pass(graph, {"dummy_in": batch, "add_value": False})
    graph, _ = add_software_metadata_analysis_pass(graph)
    weight_nodes = [n.name for n in graph.fx_graph.nodes if n.op.startswith("call") and node_parameters(graph, n)]
    act_nodes = [n.name for n in graph.fx_graph.nodes if n.meta["mase"]["common"]["mase_type"] not in IMPLICIT]
    args = {"by": "name", "target_weight_nodes": weight_nodes, "target_activation_nodes": act_nodes,
            "weight_statistics": STATISTICS, "activation_statistics": STATISTICS,
            "input_generator": input_generator, "num_samples": num_samples}
    if plot_path is not None:
        args["plot_path"] = str(plot_path)
    graph, info = profile_statistics_analysis_pass(graph, args)
    rows = []
    for kind in ("weights", "activations"):
        for node, operands in info[kind].items():
            for operand, stats in operands.items():
                spread, moments = stats["range_min_max"], stats["variance_online"]
                std = math.sqrt(moments["variance"]) if moments["variance"] == moments["variance"] else float("nan")
                rows.append([kind[:-1], node, operand, f"{spread['count']:,}", f"{spread['min']:.6g}",
                             f"{spread['max']:.6g}", f"{moments['mean']:.6g}", f"{std:.6g}"])
    headers = ["Kind", "Node", "Operand", "Count", "Min", "Max", "Mean", "Std"]
    info["table"] = tabulate(rows, headers=headers, tablefmt="grid", disable_numparse=True)
    return info
