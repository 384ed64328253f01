"""init / common / software / hardware metadata: the exact MASE fields for linear, conv and functional ops."""

from __future__ import annotations

import pytest
import torch

from chop.errors import PassError
from chop.ir.graph.mase_graph import MaseGraph
from chop.models import get_model
from chop.passes.graph import (
    add_common_metadata_analysis_pass,
    add_hardware_metadata_analysis_pass,
    init_metadata_analysis_pass,
)


def common(mg: MaseGraph, name: str):
    return mg.node(name).meta["mase"].parameters["common"]


def test_jsc_tiny_types_ops_and_shapes(make_graph, seeded) -> None:
    model = get_model("jsc-tiny")
    x = torch.randn(8, 16)
    mg = make_graph(model, x)
    expected = {
        "x": ("placeholder", "placeholder"), "seq_blocks_0": ("module", "batch_norm1d"),
        "seq_blocks_1": ("module_related_func", "relu"), "seq_blocks_2": ("module_related_func", "linear"),
        "seq_blocks_3": ("module_related_func", "relu"), "output": ("output", "output"),
    }
    assert {n.name: (common(mg, n.name)["mase_type"], common(mg, n.name)["mase_op"]) for n in mg.nodes} == expected
    linear = common(mg, "seq_blocks_2")
    assert list(linear["args"]) == ["data_in_0", "weight", "bias"]
    assert dict(linear["args"]["weight"]) == {"type": "float", "precision": [32], "shape": [5, 16],
                                              "torch_dtype": torch.float32, "value": linear["args"]["weight"]["value"],
                                              "from": None}
    assert torch.equal(linear["args"]["weight"]["value"], model.seq_blocks[2].weight)
    assert linear["args"]["data_in_0"]["shape"] == [8, 16] and "from" not in linear["args"]["data_in_0"]
    assert linear["args"]["bias"]["shape"] == [5]
    assert linear["results"]["data_out_0"]["shape"] == [8, 5]
    model.eval()
    with torch.no_grad():
        reference = model.seq_blocks[2](model.seq_blocks[1](model.seq_blocks[0](x)))
    assert torch.allclose(linear["results"]["data_out_0"]["value"], reference)
    assert common(mg, "x")["args"] == {} and common(mg, "x")["results"]["data_out_0"]["shape"] == [8, 16]
    assert common(mg, "output")["results"] == {} and common(mg, "output")["args"]["data_in_0"]["shape"] == [8, 5]


def test_conv1d_model_shapes(make_graph, small_model, seeded) -> None:
    model, _ = small_model("conv")
    mg = make_graph(model, torch.randn(3, 1, 16))
    conv = common(mg, "conv")
    assert (conv["mase_type"], conv["mase_op"]) == ("module_related_func", "conv1d")
    assert conv["args"]["data_in_0"]["shape"] == [3, 1, 16]
    assert conv["args"]["weight"]["shape"] == [4, 1, 3] and conv["args"]["bias"]["shape"] == [4]
    assert conv["results"]["data_out_0"]["shape"] == [3, 4, 16]
    assert (common(mg, "bn")["mase_type"], common(mg, "bn")["mase_op"]) == ("module", "batch_norm1d")
    flatten = common(mg, "flatten")
    assert (flatten["mase_type"], flatten["mase_op"]) == ("implicit_func", "flatten")
    assert flatten["args"]["start_dim"] == 1 and flatten["results"]["data_out_0"]["shape"] == [3, 64]
    assert common(mg, "fc")["args"]["weight"]["shape"] == [5, 64]
    assert common(mg, "fc")["results"]["data_out_0"]["shape"] == [3, 5]


def test_functional_ops(make_graph, small_model, seeded) -> None:
    mg = make_graph(small_model("functional")[0], torch.randn(4, 16))
    ops = {n.name: (common(mg, n.name)["mase_type"], common(mg, n.name)["mase_op"]) for n in mg.nodes}
    assert ops["mul"] == ("builtin_func", "mul")
    assert ops["cat"] == ("builtin_func", "cat")
    assert ops["relu"] == ("module_related_func", "relu")
    assert ops["size"] == ("implicit_func", "size")
    assert ops["view"] == ("implicit_func", "view")
    assert ops["add"] == ("builtin_func", "add")
    cat = common(mg, "cat")
    assert list(cat["args"]) == ["data_in_0", "data_in_1", "dim"] and cat["args"]["dim"] == 1
    assert cat["args"]["data_in_0"]["shape"] == [4, 16] and cat["args"]["data_in_1"]["shape"] == [4, 16]
    assert cat["results"]["data_out_0"]["shape"] == [4, 32]
    view = common(mg, "view")
    assert view["args"]["data_in_0"]["shape"] == [4, 32] and view["args"]["shape"] == [4, -1]
    assert view["results"]["data_out_0"]["shape"] == [4, 32]
    size = common(mg, "size")
    assert size["args"]["dim"] == 0 and size["results"]["data_out_0"]["type"] == "int"
    add = common(mg, "add")
    assert add["args"]["data_in_0"]["shape"] == [4, 5] and add["args"]["other"] == 1.0
    assert common(mg, "mul")["args"]["other"] == 2


def test_software_slots_only_for_tensors(make_graph, small_model, seeded) -> None:
    mg = make_graph(small_model("functional")[0], torch.randn(2, 16))
    software = mg.node("cat").meta["mase"]["software"]
    assert dict(software) == {"args": {"data_in_0": {"stat": {}}, "data_in_1": {"stat": {}}},
                              "results": {"data_out_0": {"stat": {}}}}
    assert list(mg.node("fc").meta["mase"]["software"]["args"]) == ["data_in_0", "weight", "bias"]


def test_hardware_fields(make_graph, seeded) -> None:
    """The fields MASE's hardware pass writes; tests/passes/graph/analysis checks every value on jsc-tiny."""
    mg, _ = add_hardware_metadata_analysis_pass(make_graph(get_model("jsc-tiny"), torch.randn(2, 16)))
    assert mg.node("x").meta["mase"]["hardware"]["is_implicit"] is True
    linear = mg.node("seq_blocks_2").meta["mase"]["hardware"]
    assert linear["is_implicit"] is False and linear["module"] == "fixed_linear" and linear["toolchain"] == "INTERNAL"
    assert linear["interface"]["weight"] == {"storage": "BRAM", "transpose": False}
    assert linear["parallelism"]["data_out_0"] == [5]


def test_common_pass_leaves_model_state_alone(seeded) -> None:
    model = get_model("jsc-tiny")
    model.train()
    mg, _ = init_metadata_analysis_pass(MaseGraph(model))
    before = mg.modules["seq_blocks.0"].running_mean.clone()
    add_common_metadata_analysis_pass(mg, {"dummy_in": {"x": torch.randn(1, 16) + 5}})
    assert mg.model.training is True
    assert torch.equal(mg.modules["seq_blocks.0"].running_mean, before)


def test_default_dummy_input_from_registered_shape() -> None:
    mg, _ = init_metadata_analysis_pass(MaseGraph(get_model("jsc-conv-res")))
    mg, _ = add_common_metadata_analysis_pass(mg)
    assert mg.node("x").meta["mase"]["common"]["results"]["data_out_0"]["shape"] == [1, 1, 16]


def test_errors_name_the_problem(seeded) -> None:
    mg = MaseGraph(get_model("jsc-tiny"))
    with pytest.raises(PassError, match="run init_metadata_analysis_pass"):
        add_common_metadata_analysis_pass(mg, {"dummy_in": {"x": torch.randn(2, 16)}})
    init_metadata_analysis_pass(mg)
    with pytest.raises(PassError, match=r"unknown argument 'dumy_in' \(did you mean 'dummy_in'\?\)"):
        add_common_metadata_analysis_pass(mg, {"dumy_in": {"x": torch.randn(2, 16)}})
    with pytest.raises(PassError, match="dummy_in has no entry for model input 'x'; got y"):
        add_common_metadata_analysis_pass(mg, {"dummy_in": {"y": torch.randn(2, 16)}})
    with pytest.raises(PassError, match="the dummy input failed at node 'seq_blocks_0'"):
        add_common_metadata_analysis_pass(mg, {"dummy_in": {"x": torch.randn(2, 7)}})
