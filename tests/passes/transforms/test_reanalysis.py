"""A quantised graph analysed from scratch (e.g. loaded without its metadata) keeps its formats."""

import torch
from quantize_helpers import LINEAR_8_4, FunctionalNet, graph_of

from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph import quantize_transform_pass
from chop.passes.graph.analysis import count_ops_analysis_pass


def _reanalysed(graph: MaseGraph, x: torch.Tensor) -> MaseGraph:
    return graph_of(graph.model, x)


def test_reanalysis_recovers_op_names_and_precisions():
    torch.manual_seed(0)
    x = torch.randn(3, 4)
    graph = graph_of(FunctionalNet(), x)
    config = {"by": "type", "default": {"config": dict(LINEAR_8_4)}}
    quantized, _ = quantize_transform_pass(graph, config)
    fresh = _reanalysed(quantized, x)
    by_op = {}
    for node in fresh.fx_graph.nodes:
        common = node.meta["mase"].parameters["common"]
        by_op.setdefault(common["mase_op"], []).append(common)
    assert {"add", "sub", "mul", "matmul", "bmm", "relu", "linear"} <= set(by_op)
    assert all(not op.endswith("_integer") for op in by_op)
    linear = by_op["linear"][0]["args"]
    assert (linear["weight"]["type"], linear["weight"]["precision"]) == ("integer", [8, 4])
    assert (linear["data_in_0"]["type"], linear["data_in_0"]["precision"]) == ("integer", [8, 4])
    add = by_op["add"][0]["args"]
    assert (add["data_in_0"]["type"], add["data_in_0"]["precision"]) == ("integer", [8, 4])


def test_bitops_of_a_reanalysed_graph_use_the_quantised_widths():
    torch.manual_seed(0)
    x = torch.randn(1, 4)
    graph = graph_of(FunctionalNet(), x)
    linear_only = {"by": "type", "default": {"config": {"name": None}}, "linear": {"config": dict(LINEAR_8_4)}}
    quantized, _ = quantize_transform_pass(graph, linear_only)
    _, before = count_ops_analysis_pass(graph_of(FunctionalNet(), x), {"verbose": False})
    _, after = count_ops_analysis_pass(_reanalysed(quantized, x), {"verbose": False})
    assert before["nodes"]["fc"]["bitops"] == 16 * 32 * 32
    assert after["nodes"]["fc"]["bitops"] == 16 * 8 * 8
