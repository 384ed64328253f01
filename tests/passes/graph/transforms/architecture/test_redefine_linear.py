"""redefine_linear_transform_pass: MASE's lab-4 channel multipliers, with the rest of the graph kept consistent."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from chop.errors import PassError
from chop.ir.graph.mase_graph import MaseGraph
from chop.models import get_model
from chop.dataset import get_dataset_info
from chop.passes.graph import (add_common_metadata_analysis_pass, init_metadata_analysis_pass,
                               redefine_linear_transform_pass)
from chop.passes.graph.transforms import channel_multiplier_config

NONE = {"config": {"name": None}}


class ThreeLinear(nn.Module):
    """Lab 4's first network: three linears in a row."""

    def __init__(self) -> None:
        super().__init__()
        self.seq_blocks = nn.Sequential(nn.BatchNorm1d(16), nn.ReLU(16), nn.Linear(16, 16), nn.Linear(16, 16),
                                        nn.Linear(16, 5), nn.ReLU(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.seq_blocks(x)


class WithBatchNorms(nn.Module):
    """Hidden BatchNorms between the linears, which must follow the widths."""

    def __init__(self) -> None:
        super().__init__()
        self.seq_blocks = nn.Sequential(nn.Linear(16, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 8),
                                        nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.seq_blocks(x)


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(16, 16)
        self.b = nn.Linear(16, 16)
        self.out = nn.Linear(16, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.a(x) + self.b(x))


def graph_of(model: nn.Module, common: bool = False) -> MaseGraph:
    graph, _ = init_metadata_analysis_pass(MaseGraph(model=model), None)
    if common:
        placeholder = next(node for node in graph.fx_graph.nodes if node.op == "placeholder")
        graph, _ = add_common_metadata_analysis_pass(graph, {"dummy_in": {placeholder.name: torch.randn(2, 16)}})
    return graph


def linear_shapes(graph: MaseGraph) -> dict[str, tuple[int, int]]:
    return {node.name: (graph.modules[node.target].in_features, graph.modules[node.target].out_features)
            for node in graph.fx_graph.nodes
            if node.op == "call_module" and isinstance(graph.modules[node.target], nn.Linear)}


def test_the_lab_4_config_doubles_the_middle_and_leaves_the_input_graph_alone() -> None:
    graph = graph_of(ThreeLinear())
    config = {"by": "name", "default": NONE,
              "seq_blocks_2": {"config": {"name": "output_only", "channel_multiplier": 2}},
              "seq_blocks_3": {"config": {"name": "both", "channel_multiplier": 2}},
              "seq_blocks_4": {"config": {"name": "input_only", "channel_multiplier": 2}}}
    given_config = copy.deepcopy(config)
    resized, info = redefine_linear_transform_pass(graph=graph, pass_args={"config": config})
    assert config == given_config  # MASE's pass pops keys of the caller's dict; this one reads them
    assert linear_shapes(resized) == {"seq_blocks_2": (16, 32), "seq_blocks_3": (32, 32), "seq_blocks_4": (32, 5)}
    assert info == {"resized": {"seq_blocks_2": [16, 32], "seq_blocks_3": [32, 32], "seq_blocks_4": [32, 5]}}
    assert linear_shapes(graph) == {"seq_blocks_2": (16, 16), "seq_blocks_3": (16, 16), "seq_blocks_4": (16, 5)}
    assert resized.model(torch.randn(3, 16)).shape == (3, 5)
    # untouched modules are the same parameters, copied: the input BatchNorm keeps its values
    assert torch.equal(resized.modules["seq_blocks.0"].weight, graph.modules["seq_blocks.0"].weight)


def test_lab_4_q3_per_side_factors_and_hidden_batch_norms_follow() -> None:
    graph = graph_of(WithBatchNorms(), common=True)
    config = channel_multiplier_config(graph, {"seq_blocks_0": 4, "seq_blocks_3": 8})
    assert config["seq_blocks_3"] == {"config": {"name": "both", "input_multiplier": 4, "output_multiplier": 8}}
    resized, info = redefine_linear_transform_pass(graph, {"config": config})
    assert linear_shapes(resized) == {"seq_blocks_0": (16, 32), "seq_blocks_3": (32, 64), "seq_blocks_6": (64, 5)}
    assert resized.modules["seq_blocks.1"].num_features == 32 and resized.modules["seq_blocks.4"].num_features == 64
    assert info["resized"]["seq_blocks_1"] == [32] and info["resized"]["seq_blocks_4"] == [64]
    # the input graph had common metadata, so the new one has it too, with the new shapes
    node = next(n for n in resized.fx_graph.nodes if n.name == "seq_blocks_3")
    assert node.meta["mase"]["common"]["results"]["data_out_0"]["shape"][-1] == 64
    assert resized.model.eval()(torch.randn(5, 16)).shape == (5, 5)


def test_a_uniform_multiplier_scales_every_hidden_width_of_a_zoo_model() -> None:
    info = get_dataset_info("jsc")
    model = get_model("jsc-toy", task="cls", dataset_info=info)
    graph = graph_of(model)
    before = linear_shapes(graph)
    resized, _ = redefine_linear_transform_pass(graph, {"config": channel_multiplier_config(graph, 2)})
    after = linear_shapes(resized)
    names = list(before)
    for i, name in enumerate(names):
        (b_in, b_out), (a_in, a_out) = before[name], after[name]
        assert a_in == (b_in if i == 0 else 2 * b_in)
        assert a_out == (b_out if i == len(names) - 1 else 2 * b_out)
    assert resized.model.eval()(torch.randn(4, 16)).shape == (4, 5)


def test_halving_is_allowed_where_the_widths_stay_whole() -> None:
    graph = graph_of(ThreeLinear())
    resized, _ = redefine_linear_transform_pass(graph, {"config": channel_multiplier_config(graph, 0.5)})
    assert linear_shapes(resized) == {"seq_blocks_2": (16, 8), "seq_blocks_3": (8, 8), "seq_blocks_4": (8, 5)}


def entry(name: str | None, **factors: Any) -> dict[str, Any]:
    return {"config": {"name": name, **factors}}


@pytest.mark.parametrize("model, config, message", [
    (ThreeLinear, {"default": NONE, "seq_blocks_2": entry("output_only", channel_multiplier=2)},
     "node 'seq_blocks_3' would expect 16 input features but 'seq_blocks_2' now gives 32; give both layers "
     "multipliers that agree"),
    (ThreeLinear, {"default": NONE, "seq_blocks_2": entry("input_only", channel_multiplier=2)},
     "node 'seq_blocks_2' would expect 32 input features but its input keeps 16"),
    (ThreeLinear, {"default": NONE, "seq_blocks_4": entry("output_only", channel_multiplier=2)},
     "the graph output would have 10 features instead of its original width ('seq_blocks_4')"),
    (Residual, {"default": NONE, "a": entry("output_only", channel_multiplier=2)},
     "node 'add' would combine different widths: 'a' gives 32; 'b' keeps its width"),
    (ThreeLinear, {"default": NONE, "seq_blocks_2": entry("both", channel_multiplier=0)},
     "entry 'seq_blocks_2': channel_multiplier = 0: expected a number > 0"),
    (ThreeLinear, {"default": NONE, "seq_blocks_2": entry("output_only", channel_multiplier=-1)},
     "entry 'seq_blocks_2': channel_multiplier = -1: expected a number > 0"),
    (ThreeLinear, {"default": NONE, "seq_blocks_2": entry("output_only", channel_multiplier=0.3)},
     "node 'seq_blocks_2': output width 16 x 0.3 = 4.8 is not a whole number of features >= 1"),
    (ThreeLinear, {"default": NONE, "seq_blocks_2": entry("outputs_only", channel_multiplier=2)},
     "entry 'seq_blocks_2': unknown name 'outputs_only'"),
    (ThreeLinear, {"default": NONE, "seq_blocks_2": entry("output_only")},
     "entry 'seq_blocks_2': name = 'output_only' needs channel_multiplier"),
    (ThreeLinear, {"default": NONE, "seq_blocks_2": entry("output_only", input_multiplier=2)},
     "entry 'seq_blocks_2': input_multiplier does not apply to name = 'output_only'; use name = 'both'"),
    (ThreeLinear, {"default": NONE, "seq_blocks_9": entry("both", channel_multiplier=2)},
     "unknown linear node 'seq_blocks_9'"),
    (ThreeLinear, {"seq_blocks_2": entry("both", channel_multiplier=2)}, "the config needs a 'default' entry"),
    (ThreeLinear, {"by": "type", "default": NONE}, "by = 'type': only 'name' is supported"),
], ids=["next-linear", "graph-input", "graph-output", "residual-add", "zero", "negative", "fraction", "name",
        "no-multiplier", "wrong-side", "unknown-node", "no-default", "by-type"])
def test_inconsistent_or_bad_configs_are_one_line_errors_before_anything_changes(
        model: type[nn.Module], config: dict[str, Any], message: str) -> None:
    graph = graph_of(model())
    before = linear_shapes(graph)
    with pytest.raises(PassError) as error:
        redefine_linear_transform_pass(graph, {"config": config})
    assert str(error.value).startswith(f"redefine_linear_transform_pass: {message}")
    assert "\n" not in str(error.value)
    assert linear_shapes(graph) == before


def test_a_hidden_module_with_parameters_it_cannot_resize_is_named() -> None:
    model = nn.Sequential(nn.Linear(16, 8), nn.LayerNorm(8), nn.Linear(8, 5))
    graph = graph_of(model)
    with pytest.raises(PassError, match=r"node '_1' \(LayerNorm\) has parameters sized for the old width; "
                                        r"'_0' now gives 16"):
        redefine_linear_transform_pass(graph, {"config": channel_multiplier_config(graph, 2)})


@pytest.mark.property
@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.lists(st.integers(1, 12), min_size=1, max_size=3))
def test_any_consistent_per_layer_multipliers_give_a_working_chain(multipliers: list[int], widths: list[int]) -> None:
    """Hidden widths w_i scaled by m_i: each linear becomes (w_{i-1} m_{i-1}) -> (w_i m_i), the ends fixed."""
    hidden = widths[:len(multipliers)]
    factors = multipliers[:len(hidden)]
    sizes = [16, *hidden, 5]
    model = nn.Sequential(*[layer for i in range(len(sizes) - 1)
                            for layer in (nn.Linear(sizes[i], sizes[i + 1]), nn.ReLU())])
    graph = graph_of(model)
    names = list(linear_shapes(graph))
    resized, _ = redefine_linear_transform_pass(
        graph, {"config": channel_multiplier_config(graph, dict(zip(names, factors)))})
    scaled = [16, *(w * m for w, m in zip(hidden, factors)), 5]
    assert list(linear_shapes(resized).values()) == list(zip(scaled[:-1], scaled[1:]))
    assert resized.model(torch.randn(2, 16)).shape == (2, 5)
