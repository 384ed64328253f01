"""Typed metadata records behave as MASE's dicts: reads, writes that stick, typos that fail."""

from __future__ import annotations

import pytest
import torch

from chop.ir.graph.mase_graph import MaseGraph
from chop.ir.graph.mase_metadata import MetadataKeyError, Parameters, TensorMeta
from chop.models import get_model
from chop.passes.graph import add_common_metadata_analysis_pass, init_metadata_analysis_pass


@pytest.fixture
def graph() -> MaseGraph:
    torch.manual_seed(0)
    mg, _ = init_metadata_analysis_pass(MaseGraph(get_model("jsc-tiny")))
    mg, _ = add_common_metadata_analysis_pass(mg, {"dummy_in": {"x": torch.randn(4, 16)}})
    return mg


def test_assignment_through_the_dict_view_sticks(graph: MaseGraph) -> None:
    node = graph.node("seq_blocks_2")
    node.meta["mase"].parameters["common"]["args"]["weight"]["type"] = "integer"
    node.meta["mase"].parameters["common"]["args"]["weight"]["precision"] = [8, 4]
    weight = node.meta["mase"]["common"]["args"]["weight"]
    assert isinstance(weight, TensorMeta)
    assert (weight.type, weight.precision) == ("integer", [8, 4])
    assert node.meta["mase"]["common"] is node.meta["mase"].parameters["common"]


def test_typo_is_an_error_not_a_new_key(graph: MaseGraph) -> None:
    weight = graph.node("seq_blocks_2").meta["mase"]["common"]["args"]["weight"]
    with pytest.raises(MetadataKeyError, match=r"has no key 'precison' \(did you mean 'precision'\?\)"):
        weight["precison"] = [8]
    with pytest.raises(KeyError):
        graph.node("seq_blocks_2").meta["mase"]["comon"]
    assert "precison" not in weight


def test_dict_protocol(graph: MaseGraph) -> None:
    weight = graph.node("seq_blocks_2").meta["mase"]["common"]["args"]["weight"]
    assert list(weight) == ["type", "precision", "shape", "torch_dtype", "value", "from"]
    assert "from" in weight and weight["from"] is None and weight.get("missing", 7) == 7
    data_in = graph.node("seq_blocks_2").meta["mase"]["common"]["args"]["data_in_0"]
    assert "from" not in data_in
    assert graph.node("x").meta["mase"]["software"] == {"args": {}, "results": {}}
    assert list(graph.node("x").meta["mase"].parameters) == ["common", "software", "hardware"]


def test_plain_round_trip_is_identical(graph: MaseGraph) -> None:
    for node in graph.nodes:
        parameters = node.meta["mase"].parameters
        assert Parameters.from_plain(parameters.to_plain()) == parameters
    a = graph.node("seq_blocks_2").meta["mase"].parameters
    b = Parameters.from_plain(a.to_plain())
    b["common"]["args"]["weight"]["value"] = b["common"]["args"]["weight"]["value"] + 1
    assert a != b


def test_module_link_follows_swaps(graph: MaseGraph) -> None:
    meta = graph.node("seq_blocks_2").meta["mase"]
    assert meta.module is graph.modules["seq_blocks.2"]
    replacement = torch.nn.Linear(16, 5)
    graph.model.seq_blocks.add_module("2", replacement)
    assert meta.module is replacement
    assert graph.node("x").meta["mase"].module is None
