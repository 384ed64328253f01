"""A quantised function's ``config=`` is parsed once, reads like a dict, and survives fx code and pickles."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest
import torch
from torch import Tensor, nn

from chop.errors import QuantizerError
from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph import add_common_metadata_analysis_pass, init_metadata_analysis_pass
from chop.passes.graph.interface import load_mase_graph_interface_pass, save_mase_graph_interface_pass
from chop.passes.graph.transforms import quantize_transform_pass
from chop.quantized import node_quantizers
from chop.quantized.call_config import QuantizedCallConfig
from chop.quantizers import BlockFP, Integer

CONFIG = {"name": "integer", "data_in_width": 6, "data_in_frac_width": 3}


class _Functions(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(x + x) * x


def graph_of(model: nn.Module, x: Tensor) -> MaseGraph:
    graph, _ = init_metadata_analysis_pass(MaseGraph(model), None)
    graph, _ = add_common_metadata_analysis_pass(graph, {"dummy_in": {"x": x}, "add_value": False})
    return graph


def _calls(module: torch.fx.GraphModule) -> list[torch.fx.Node]:
    return [n for n in module.graph.nodes if n.op == "call_function" and "config" in n.kwargs]


def test_equal_items_give_the_one_parsed_instance() -> None:
    first = QuantizedCallConfig.of("add", CONFIG)
    assert QuantizedCallConfig("add", tuple(CONFIG.items())) is first
    assert first.quantizers == {"data_in": Integer(6, 3)}
    assert pickle.loads(pickle.dumps(first)) is first and copy.deepcopy(first) is first


def test_equal_but_differently_typed_values_are_parsed_apart() -> None:
    """``8.0 == 8``, but a float width is an error, whichever config was parsed first."""
    QuantizedCallConfig.of("add", CONFIG)
    with pytest.raises(QuantizerError, match="data_in_width must be int, got 6.0"):
        QuantizedCallConfig.of("add", {**CONFIG, "data_in_width": 6.0})


def test_it_reads_like_the_config_dict() -> None:
    config = QuantizedCallConfig.of("relu", {**CONFIG, "data_in_signed": True})
    assert config["data_in_width"] == 6 and config.get("missing") is None
    assert dict(config) == config.config == {**CONFIG, "data_in_signed": True}
    assert (config.mase_op, config[0]) == ("relu", "relu")


def test_the_pass_puts_parsed_configs_in_the_graph_and_the_code() -> None:
    torch.manual_seed(0)
    x = torch.randn(3, 4)
    graph = graph_of(_Functions(), x)
    graph, _ = quantize_transform_pass(graph, {"by": "type", "default": {"config": CONFIG}})
    calls = _calls(graph.model)
    assert calls and all(isinstance(n.kwargs["config"], QuantizedCallConfig) for n in calls)
    assert "QuantizedCallConfig('add', (('name', 'integer'), ('data_in_width', 6)" in graph.model.code
    assert dict(calls[0].kwargs["config"]) == CONFIG


def test_a_saved_graph_loads_with_the_same_configs(tmp_path: Path) -> None:
    """List values (block sizes) become tuples so the items can key the parsed instances."""
    x = torch.randn(2, 8) * 5
    graph = graph_of(_Functions(), x)
    config = {"name": "block_fp", "data_in_width": 6, "data_in_exponent_width": 5, "data_in_block_size": [1, 4]}
    graph, _ = quantize_transform_pass(graph, {"by": "type", "default": {"config": config}})
    save_mase_graph_interface_pass(graph, {"save_dir": tmp_path})
    loaded, _ = load_mase_graph_interface_pass(None, {"load_dir": tmp_path})
    before, after = _calls(graph.model), _calls(loaded.model)
    assert [n.kwargs["config"] for n in after] == [n.kwargs["config"] for n in before] and len(after) == 3
    assert node_quantizers(loaded.model, after[0])["data_in"] == BlockFP(6, 5, None, (1, 4), True)
    assert torch.equal(loaded.model(x), graph.model(x))
