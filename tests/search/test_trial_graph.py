"""A trial's graph quantises exactly like a deep copy and leaves the float graph as it was."""

from __future__ import annotations

import copy

import pytest
import torch

from chop.passes.graph.transforms.quantize import quantize_transform_pass
from chop.workflows.transform import graph_with_metadata
from chop.search.trial_graph import trial_graph

LINEAR = {"name": "integer", "data_in_width": 4, "data_in_frac_width": 2, "weight_width": 2, "weight_frac_width": 1,
          "bias_width": 4, "bias_frac_width": 2}
RELU = {"name": "integer", "data_in_width": 4, "data_in_frac_width": 2}


def _snapshot(graph) -> tuple[dict, dict, dict, str]:
    return ({k: v.clone() for k, v in graph.model.state_dict().items()},
            {n.name: repr(n.meta["mase"].parameters) for n in graph.nodes},
            {name: type(m).__name__ for name, m in graph.model.named_modules()}, graph.model.code)


@pytest.mark.parametrize("shares_modules", [True, False])
@pytest.mark.parametrize("config", [
    {"by": "type", "default": {"config": {"name": None}}, "linear": {"config": LINEAR}},                 # modules
    {"by": "type", "default": {"config": {"name": None}}, "linear": {"config": LINEAR}, "relu": {"config": RELU}},
])
def test_trial_graph_quantises_like_a_deep_copy_and_leaves_the_float_graph(toy_model, shares_modules, config) -> None:
    graph = graph_with_metadata(toy_model, torch.randn(32, 16, generator=torch.Generator().manual_seed(1)))
    before = _snapshot(graph)
    nodes = [n.name for n in graph.nodes if n.meta["mase"]["common"]["mase_op"] in ("linear", "relu")]
    reference, _ = quantize_transform_pass(copy.deepcopy(graph), config)
    trial, _ = quantize_transform_pass(trial_graph(graph, nodes, shares_modules), config)
    x = torch.randn(64, 16, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        assert torch.equal(trial.model(x), reference.model(x))
        assert not torch.equal(trial.model(x), graph.model(x))  # the 2-bit weights did change the output
    assert [repr(n.meta["mase"].parameters) for n in trial.nodes] == \
        [repr(n.meta["mase"].parameters) for n in reference.nodes]
    after = _snapshot(graph)
    assert after[1:] == before[1:]
    assert all(torch.equal(before[0][k], v) for k, v in after[0].items())
