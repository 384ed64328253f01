"""``add_hardware_metadata_analysis_pass``: MASE's fields with the values expected on jsc-tiny, before
quantisation, after it and once prepared; a prepared graph's metadata survives ``.mz`` save and load."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from chop.hardware.ops import FixedLinear
from chop.hardware.reference import integer_reference
from chop.ir.graph.mase_graph import MaseGraph
from chop.ir.graph.mase_metadata import to_plain
from chop.models import get_model
from chop.passes import (
    add_common_metadata_analysis_pass,
    add_hardware_metadata_analysis_pass,
    init_metadata_analysis_pass,
    load_mase_graph_interface_pass,
    prepare_hardware_transform_pass,
    quantize_transform_pass,
    save_mase_graph_interface_pass,
)

LEGACY = Path(__file__).resolve().parents[3] / "fixtures" / "legacy_mz"
CONFIG = {"name": "integer", "data_in_width": 8, "data_in_frac_width": 4, "weight_width": 8, "weight_frac_width": 4,
          "bias_width": 8, "bias_frac_width": 4}
BRAM = {"storage": "BRAM", "transpose": False}


def _graph(model: nn.Module, features: int = 16) -> MaseGraph:
    torch.manual_seed(0)
    graph, _ = init_metadata_analysis_pass(MaseGraph(model))
    placeholder = next(node.name for node in graph.nodes if node.op == "placeholder")
    graph, _ = add_common_metadata_analysis_pass(graph, {"dummy_in": {placeholder: torch.randn(2, features)},
                                                         "add_value": False})
    return graph


def params(operand: str, precision: list[int], sizes: list[int]) -> dict[str, int]:
    """MASE's entries for one operand: precision list, then size and parallelism per dimension, innermost first."""
    entries = {f"{operand}_PRECISION_{i}": p for i, p in enumerate(precision)}
    for dim, size in enumerate(sizes):
        entries[f"{operand}_TENSOR_SIZE_DIM_{dim}"] = size
        entries[f"{operand}_PARALLELISM_DIM_{dim}"] = size
    return entries


def test_before_quantisation_jsc_tiny_has_masess_fields_with_real_values() -> None:
    graph, _ = add_hardware_metadata_analysis_pass(_graph(get_model("jsc-tiny")))
    hardware = {node.name: to_plain(node.meta["mase"]["hardware"]) for node in graph.nodes}
    assert hardware["seq_blocks_2"] == {
        "is_implicit": False, "toolchain": "INTERNAL", "module": "fixed_linear", "device_id": -1,
        "interface": {"weight": BRAM, "bias": BRAM},
        "parallelism": {"data_in_0": [16], "weight": [16], "bias": [5], "data_out_0": [5]},
        "dependence_files": ["fixed_linear.sv", "fixed_requant.sv", "fixed_delay.sv"],
        "verilog_param": {**params("DATA_IN_0", [32], [16, 1]), **params("WEIGHT", [32], [16, 5]),
                          **params("BIAS", [32], [5]), **params("DATA_OUT_0", [32], [5, 1])},
        "formats": {},
    }
    assert hardware["seq_blocks_0"]["module"] == "fixed_affine"
    assert hardware["seq_blocks_0"]["dependence_files"] == ["fixed_affine.sv", "fixed_requant.sv", "fixed_delay.sv"]
    assert hardware["seq_blocks_1"]["module"] == "fixed_relu" and hardware["seq_blocks_1"]["interface"] == {}
    assert hardware["seq_blocks_1"]["verilog_param"] == {**params("DATA_IN_0", [32], [16, 1]),
                                                         **params("DATA_OUT_0", [32], [16, 1])}
    for implicit in ("x", "output"):
        assert hardware[implicit]["is_implicit"] is True and hardware[implicit]["toolchain"] is None
        assert hardware[implicit]["verilog_param"] == {} and hardware[implicit]["dependence_files"] == []


def test_after_quantisation_the_precisions_and_formats_are_the_quantisers() -> None:
    graph, _ = quantize_transform_pass(_graph(get_model("jsc-tiny")), {"by": "type", "default": {"config": CONFIG}})
    graph, _ = add_hardware_metadata_analysis_pass(graph)
    linear = graph.node("seq_blocks_2").meta["mase"]["hardware"]
    assert linear["verilog_param"] == {**params("DATA_IN_0", [8, 4], [16, 1]), **params("WEIGHT", [8, 4], [16, 5]),
                                       **params("BIAS", [8, 4], [5]), **params("DATA_OUT_0", [32], [5, 1])}
    assert linear["formats"] == {"data_in_0": [8, 4, 1], "weight": [8, 4, 1], "bias": [8, 4, 1]}
    assert graph.node("seq_blocks_1").meta["mase"]["hardware"]["formats"] == {"data_in_0": [8, 4, 0]}  # relu: unsigned


def test_an_op_without_a_twin_is_marked_unsupported() -> None:
    graph, _ = add_hardware_metadata_analysis_pass(_graph(nn.Sequential(nn.Linear(16, 4), nn.Sigmoid())))
    sigmoid = graph.node("_1").meta["mase"]["hardware"]
    assert (sigmoid["toolchain"], sigmoid["module"], sigmoid["dependence_files"]) == ("UNSUPPORTED", None, [])


def _prepared() -> MaseGraph:
    graph, _ = quantize_transform_pass(_graph(get_model("jsc-tiny")), {"by": "type", "default": {"config": CONFIG}})
    prepared, _ = prepare_hardware_transform_pass(graph)
    return prepared


def test_prepared_nodes_carry_their_twins_exact_formats() -> None:
    prepared = _prepared()
    twin = prepared.modules["seq_blocks_2"]
    assert isinstance(twin, FixedLinear)
    hardware = to_plain(prepared.node("seq_blocks_2").meta["mase"]["hardware"])
    bias_width = hardware["formats"]["bias"][0]
    assert hardware["formats"] == {"data_in_0": [8, 4, 1], "weight": [8, 4, 1], "bias": [bias_width, 8, 1],
                                   "accumulator": twin.acc_format.as_list(), "data_out_0": [8, 4, 0]}
    assert twin.acc_format.frac == 8 and max(abs(int(b)) for b in twin.bias) < 2 ** (bias_width - 1)
    assert hardware["verilog_param"] == {**params("DATA_IN_0", [8, 4], [16, 1]), **params("WEIGHT", [8, 4], [16, 5]),
                                         **params("BIAS", [bias_width, 8], [5]), **params("DATA_OUT_0", [8, 4], [5, 1])}
    assert (hardware["module"], hardware["toolchain"], hardware["is_implicit"]) == ("fixed_linear", "INTERNAL", False)
    assert hardware["interface"] == {"weight": BRAM, "bias": BRAM}
    affine = prepared.node("seq_blocks_0").meta["mase"]["hardware"]
    assert affine["module"] == "fixed_affine" and affine["formats"]["data_in_0"] == [8, 4, 1]
    assert affine["formats"]["weight"][0] == 8 and list(affine["formats"]) == [
        "data_in_0", "weight", "bias", "accumulator", "data_out_0"]
    port = prepared.node("fixed_input").meta["mase"]["hardware"]
    assert (port["is_implicit"], port["module"], port["formats"]) == (True, "fixed_input", {"data_out_0": [8, 4, 1]})


def test_prepared_metadata_survives_save_and_load(tmp_path: Path) -> None:
    prepared = _prepared()
    save_mase_graph_interface_pass(prepared, {"save_dir": str(tmp_path)})
    loaded, _ = load_mase_graph_interface_pass(None, {"load_dir": str(tmp_path)})
    assert [n.name for n in loaded.nodes] == [n.name for n in prepared.nodes]
    for saved, back in zip(prepared.nodes, loaded.nodes):
        assert to_plain(back.meta["mase"].parameters) == to_plain(saved.meta["mase"].parameters), saved.name
    x = torch.randn(100, 16)
    assert torch.equal(integer_reference(loaded, x), integer_reference(prepared, x))
    assert loaded.node("seq_blocks_2").meta["mase"]["hardware"]["formats"]["accumulator"] == (
        prepared.modules["seq_blocks_2"].acc_format.as_list())


def test_graphs_saved_before_the_new_fields_load_with_them_empty() -> None:
    graph, _ = load_mase_graph_interface_pass(None, {"load_dir": LEGACY / "v2_jsc_tiny_integer"})
    hardware = graph.node("seq_blocks_2").meta["mase"]["hardware"]
    assert (hardware["dependence_files"], hardware["verilog_param"], hardware["formats"]) == ([], {}, {})
    graph, _ = add_hardware_metadata_analysis_pass(graph)  # and the pass fills them
    assert graph.node("seq_blocks_2").meta["mase"]["hardware"]["formats"]["weight"] == [8, 4, 1]


def test_a_conv1d_is_a_fixed_linear_before_and_after_preparation() -> None:
    graph, _ = init_metadata_analysis_pass(MaseGraph(get_model("jsc-conv-res")))
    graph, _ = add_common_metadata_analysis_pass(graph, {"dummy_in": {"x": torch.randn(2, 1, 16)}, "add_value": False})
    graph, _ = add_hardware_metadata_analysis_pass(graph)
    conv = to_plain(graph.node("block_conv1").meta["mase"]["hardware"])
    assert (conv["toolchain"], conv["module"]) == ("INTERNAL", "fixed_linear")
    assert conv["dependence_files"] == ["fixed_linear.sv", "fixed_requant.sv", "fixed_delay.sv"]
    assert conv["verilog_param"] == {**params("DATA_IN_0", [32], [16, 8, 1]), **params("WEIGHT", [32], [3, 8, 8]),
                                     **params("BIAS", [32], [8]), **params("DATA_OUT_0", [32], [16, 8, 1])}
    quantised, _ = quantize_transform_pass(graph, {"by": "type", "default": {"config": CONFIG}})
    prepared, _ = prepare_hardware_transform_pass(quantised)
    lowered = to_plain(prepared.node("block_conv1").meta["mase"]["hardware"])
    assert (lowered["module"], lowered["toolchain"]) == ("fixed_linear", "INTERNAL")
    # the Toeplitz matrix over the flattened (8, 16) sample, its input and output flattened
    assert {key: lowered["verilog_param"][key] for key in ("WEIGHT_TENSOR_SIZE_DIM_0", "WEIGHT_TENSOR_SIZE_DIM_1",
                                                           "DATA_IN_0_TENSOR_SIZE_DIM_0", "DATA_OUT_0_TENSOR_SIZE_DIM_0")} \
        == {"WEIGHT_TENSOR_SIZE_DIM_0": 128, "WEIGHT_TENSOR_SIZE_DIM_1": 128, "DATA_IN_0_TENSOR_SIZE_DIM_0": 128,
            "DATA_OUT_0_TENSOR_SIZE_DIM_0": 128}
