"""``prepare_hardware_transform_pass``: options, the returned graph and its metadata, the user's graph left alone."""

from __future__ import annotations

import copy

import pytest
import torch

from chop.errors import PassError
from chop.hardware.fixed import FixedFormat
from chop.hardware.ops import FixedAffine, FixedInput, FixedLinear, FixedReLU
from chop.hardware.prepare import prepare
from chop.hardware.reference import integer_reference, mismatches
from chop.ir.graph.mase_graph import MaseGraph
from chop.models import get_model
from chop.passes import (
    add_common_metadata_analysis_pass,
    init_metadata_analysis_pass,
    prepare_hardware_transform_pass,
    quantize_transform_pass,
    report_node_hardware_type_analysis_pass,
)

CONFIG = {"name": "integer", "data_in_width": 8, "data_in_frac_width": 4, "weight_width": 8, "weight_frac_width": 4,
          "bias_width": 8, "bias_frac_width": 4}


def quantised_jsc(name: str) -> MaseGraph:
    torch.manual_seed(0)
    model = get_model(name)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm1d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    graph, _ = init_metadata_analysis_pass(MaseGraph(model))
    graph, _ = add_common_metadata_analysis_pass(graph, {"dummy_in": {"x": torch.randn(4, 16)}, "add_value": False})
    graph, _ = quantize_transform_pass(graph, {"by": "type", "default": {"config": dict(CONFIG)}})
    return graph


def test_pass_returns_a_new_prepared_graph_with_metadata() -> None:
    graph = quantised_jsc("jsc-toy")
    code, state = graph.model.code, copy.deepcopy(graph.model.state_dict())
    prepared, info = prepare_hardware_transform_pass(graph)
    assert isinstance(prepared, MaseGraph) and prepared is not graph
    assert graph.model.code == code and all(torch.equal(state[k], v) for k, v in graph.model.state_dict().items())
    assert info == prepare(graph.model).info
    kinds = {node.name: type(prepared.modules[str(node.target)]) for node in prepared.nodes if node.op == "call_module"}
    assert kinds == {"fixed_input": FixedInput, "seq_blocks_0": FixedAffine, "seq_blocks_1": FixedReLU,
                     "seq_blocks_2": FixedLinear, "seq_blocks_4": FixedReLU, "seq_blocks_5": FixedLinear,
                     "seq_blocks_7": FixedReLU, "seq_blocks_8": FixedLinear, "seq_blocks_10": FixedReLU}
    common = prepared.node("seq_blocks_5").meta["mase"]["common"]
    assert (common["mase_type"], common["mase_op"]) == ("module_related_func", "linear")
    twin = prepared.modules["seq_blocks_5"]
    assert common["args"]["data_in_0"]["type"] == "fixed"
    assert common["args"]["data_in_0"]["precision"] == [twin.in_format.width, twin.in_format.frac]
    assert common["args"]["weight"]["shape"] == [8, 8] and common["args"]["weight"]["from"] is None
    assert prepared.node("seq_blocks_0").meta["mase"]["common"]["mase_op"] == "batch_norm1d"
    assert prepared.node("seq_blocks_5").meta["mase"]["hardware"]["module"] == "fixed_linear"
    x = torch.randn(200, 16)
    assert mismatches(prepared, x) == 0
    _, report = report_node_hardware_type_analysis_pass(prepared, {"save_path": None})
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in report["table"].splitlines()
            if line.startswith("| ")][1:]
    assert [row[0] for row in rows] == [name for name in kinds if name != "fixed_input"]  # the input port is implicit
    assert all(row[3] == "INTERNAL" and row[2] == "fixed" for row in rows)


@pytest.mark.parametrize(("value", "expected"), [([10, 6], FixedFormat(10, 6)), ((10, 6, 0), FixedFormat(10, 6, False)),
                                                 ([12, 8, True], FixedFormat(12, 8))])
def test_input_format_option(value, expected) -> None:
    prepared, info = prepare_hardware_transform_pass(quantised_jsc("jsc-tiny"), {"input_format": value})
    assert prepared.modules["fixed_input"].out_format == expected
    assert info["input"] == {"format": expected.as_list(), "source": "input_format option"}


@pytest.mark.parametrize("value", [[8], [8, 4, 1, 0], [8.0, 4], [8, 4, 2], ["8", "4"]])
def test_bad_input_format_is_one_line_error(value) -> None:
    with pytest.raises(PassError, match=r"^prepare_hardware_transform_pass: input_format = .*: expected "
                                        r"\[width, frac\] or \[width, frac, signed\]$"):
        prepare_hardware_transform_pass(quantised_jsc("jsc-tiny"), {"input_format": value})


def test_fold_batchnorm_option_and_unknown_options() -> None:
    graph = quantised_jsc("jsc-toy")
    _, info = prepare_hardware_transform_pass(graph, {"fold_batchnorm": False})
    assert info["folded"] == [] and len(info["affine"]) == 4
    with pytest.raises(PassError, match=r"^prepare_hardware_transform_pass: unknown argument 'fold_batchnrom' "
                                        r"\(did you mean 'fold_batchnorm'\?\)"):
        prepare_hardware_transform_pass(graph, {"fold_batchnrom": False})
    with pytest.raises(PassError, match=r"pass argument 'fold_batchnorm' = 'no': expected true or false"):
        prepare_hardware_transform_pass(graph, {"fold_batchnorm": "no"})


def test_prepared_graph_computes_what_the_library_prepared_graph_computes() -> None:
    graph = quantised_jsc("jsc-s")
    prepared, _ = prepare_hardware_transform_pass(graph)
    x = torch.randn(300, 16)
    assert torch.equal(integer_reference(prepared, x), integer_reference(prepare(graph.model).module, x))
