"""The quantise pass with MASE's binary / ternary keys, its ignored keys, and the MASE quantiser attributes."""

from __future__ import annotations

import copy
import logging

import pytest
import torch
import torch.nn.functional as F
from quantize_helpers import LINEAR_8_4, ConvNet, graph_of, hand_quantize
from torch import Tensor

from chop.errors import PassError
from chop.models import get_model
from chop.passes.graph.analysis import profile_statistics_analysis_pass
from chop.passes.graph.transforms import quantize_transform_pass
from chop.quantized.modules import passthrough

PASS_LOGGER = "chop.passes.graph.transforms.quantize.quantize"


@pytest.fixture
def toy() -> tuple:
    torch.manual_seed(0)
    model = get_model("toy").eval()
    x = torch.rand(32, 1, 2, 2) * 2 - 1
    return model, x, graph_of(copy.deepcopy(model), x)


@pytest.fixture
def warnings(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """The pass's records, also when an earlier CLI test stopped ``chop`` loggers propagating."""
    logger = logging.getLogger(PASS_LOGGER)
    logger.addHandler(caplog.handler)
    yield caplog
    logger.removeHandler(caplog.handler)


def _type_args(config: dict, **extra: object) -> dict:
    return {"by": "type", "default": {"config": config}, **extra}


def test_report_and_baseline_weight_path_are_accepted_and_ignored(toy: tuple) -> None:
    _, x, graph = toy
    graph, info = quantize_transform_pass(graph, _type_args(LINEAR_8_4, report=True, baseline_weight_path="x.ckpt"))
    assert info["quantized_nodes"] == ["seq_blocks_0", "seq_blocks_1", "seq_blocks_2", "seq_blocks_3", "seq_blocks_4"]


def test_node_name_under_by_type_warns_and_is_ignored(toy: tuple, warnings: pytest.LogCaptureFixture) -> None:
    model, x, graph = toy
    args = _type_args(LINEAR_8_4, seq_blocks_1={"config": {"name": "binary"}})
    graph, _ = quantize_transform_pass(graph, args)
    assert type(graph.model.get_submodule("seq_blocks.1")).__name__ == "ReLUInteger"
    [record] = {r.getMessage(): r for r in warnings.records if "seq_blocks_1" in r.getMessage()}.values()
    assert record.levelno == logging.WARNING and "\n" not in record.getMessage()
    assert 'by = "name"' in record.getMessage()


def test_other_unknown_keys_under_by_type_stay_errors_with_a_suggestion(toy: tuple) -> None:
    _, _, graph = toy
    with pytest.raises(PassError, match="did you mean 'linear'"):
        quantize_transform_pass(graph, _type_args(LINEAR_8_4, linaer={"config": LINEAR_8_4}))


def test_mase_quantizer_attributes_quantise_as_forward_does(toy: tuple) -> None:
    _, x, graph = toy
    graph, _ = quantize_transform_pass(graph, _type_args(LINEAR_8_4))
    linear, relu = graph.model.get_submodule("seq_blocks.0"), graph.model.get_submodule("seq_blocks.1")
    t = torch.linspace(-9, 9, 37)
    assert torch.equal(linear.w_quantizer(t), hand_quantize(t, 8, 4))
    assert torch.equal(linear.x_quantizer(t), hand_quantize(t, 8, 4))
    assert torch.equal(linear.b_quantizer(t), hand_quantize(t, 8, 4))
    assert torch.equal(relu.x_quantizer(t), hand_quantize(t, 8, 4, signed=False))  # MASE: relu input unsigned
    assert not hasattr(relu, "w_quantizer")
    flat = x.flatten(start_dim=1)
    expected = F.linear(linear.x_quantizer(flat), linear.w_quantizer(linear.weight), linear.b_quantizer(linear.bias))
    assert torch.equal(linear(flat), expected)


MASE_BINARY = {"name": "binary", "binary_training": "NA", "data_in_width": 1, "data_in_frac_width": 0,
               "data_in_stochastic": 0, "data_in_bipolar": 1, "weight_width": 1, "weight_stochastic": 0,
               "weight_bipolar": 1, "bias_width": 1, "bias_stochastic": 0, "bias_bipolar": 1}


def test_linear_binary_binarises_only_the_weight_and_relu_its_input(toy: tuple) -> None:
    model, x, graph = toy
    graph, _ = quantize_transform_pass(graph, _type_args(MASE_BINARY))
    linear, relu = graph.model.get_submodule("seq_blocks.0"), graph.model.get_submodule("seq_blocks.1")
    assert type(linear).__name__ == "LinearBinary" and set(linear.quantizers) == {"weight"}
    assert linear.x_quantizer is passthrough and linear.b_quantizer is passthrough
    weight = model.seq_blocks[0].weight
    assert torch.equal(linear.w_quantizer(weight), torch.where(weight >= 0, 1.0, -1.0))
    t = torch.tensor([-0.5, 0.0, 0.7])
    assert relu(t).tolist() == [0.0, 1.0, 1.0]  # bipolar ±1, then relu
    args = graph.node("seq_blocks_0").meta["mase"]["common"]["args"]
    assert (args["weight"]["type"], args["weight"]["precision"]) == ("binary", [1])
    assert args["data_in_0"]["type"] != "binary"  # passes through, keeps its float record


def test_unprefixed_binary_keys_apply_to_every_operand_and_operands_override(toy: tuple) -> None:
    _, _, graph = toy
    config = {"name": "binary", "stochastic": True, "bipolar": True, "data_in_bipolar": False, "seed": 5}
    graph, _ = quantize_transform_pass(graph, _type_args(config))
    weight = graph.model.get_submodule("seq_blocks.0").quantizers["weight"]
    data_in = graph.model.get_submodule("seq_blocks.1").quantizers["data_in"]
    assert weight.kwargs == {"stochastic": True, "bipolar": True, "seed": 5}
    assert data_in.kwargs == {"stochastic": True, "bipolar": False, "seed": 5}


def _stochastic_output(model: torch.nn.Module, x: Tensor, seed: int) -> Tensor:
    graph = graph_of(copy.deepcopy(model), x)
    config = {"name": "binary", "stochastic": True, "bipolar": True, "seed": seed}
    graph, _ = quantize_transform_pass(graph, _type_args(config))
    with torch.no_grad():
        return graph.model(x)


def test_stochastic_binarisation_same_seed_same_output(toy: tuple) -> None:
    model, x, _ = toy
    first = _stochastic_output(model, x, 0)
    assert torch.equal(first, _stochastic_output(model, x, 0))
    assert not torch.equal(first, _stochastic_output(model, x, 1))


def test_bad_binary_flag_names_node_and_key(toy: tuple) -> None:
    _, _, graph = toy
    with pytest.raises(PassError, match=r"node seq_blocks_0 \(linear\): weight_bipolar must be true/false"):
        quantize_transform_pass(graph, _type_args({**MASE_BINARY, "weight_bipolar": 2}))
    with pytest.raises(PassError, match="unknown key 'weight_stochastik'.*did you mean 'weight_stochastic'"):
        quantize_transform_pass(graph, _type_args({"name": "binary", "weight_stochastik": 1}))


MASE_TERNARY = {"name": "ternary", "weight_width": 2, "weight_scaling_factor": False, "weight_mean": "NA",
                "weight_median": "NA", "weight_max": "NA", "data_in_width": 2, "data_in_scaling_factor": False,
                "data_in_mean": "NA", "data_in_median": "NA", "data_in_max": "NA"}


def _profiled(model: torch.nn.Module, x: Tensor, statistics: dict) -> object:
    graph = graph_of(copy.deepcopy(model), x)
    graph, _ = profile_statistics_analysis_pass(graph, {
        "by": "type", "target_weight_nodes": ["linear"], "target_activation_nodes": ["relu"],
        "weight_statistics": statistics, "activation_statistics": statistics,
        "input_generator": [{"x": x}], "num_samples": len(x)})
    return graph


@pytest.mark.parametrize(("statistic", "rule"), [
    ("abs_mean", lambda w: 0.75 * w.abs().mean()),
    ("range_min_max", lambda w: 0.05 * w.max()),
    ("range_quantile", lambda w: 0.75 * torch.quantile(w.flatten(), 0.975)),
])
def test_na_statistics_come_from_the_profile(toy: tuple, statistic: str, rule) -> None:  # noqa: ANN001
    model, x, _ = toy
    graph = _profiled(model, x, {statistic: {"dims": "all"}})
    graph, _ = quantize_transform_pass(graph, _type_args(MASE_TERNARY))
    weight = model.seq_blocks[2].weight.detach()
    threshold = float(rule(weight))
    quantizer = graph.model.get_submodule("seq_blocks.2").quantizers["weight"]
    assert dict(quantizer.params)[{"abs_mean": "mean", "range_min_max": "max", "range_quantile": "median"}[statistic]] \
        == pytest.approx(threshold / (0.05 if statistic == "range_min_max" else 0.75), rel=1e-6)
    expected = torch.where(weight > threshold, 1.0, 0.0) - torch.where(weight < -threshold, 1.0, 0.0)
    assert torch.equal(quantizer(weight), expected)


def test_na_without_a_profile_uses_the_tensor_and_per_channel_stats_are_refused(toy: tuple) -> None:
    model, x, graph = toy
    graph, _ = quantize_transform_pass(graph, _type_args(MASE_TERNARY))
    weight = model.seq_blocks[0].weight.detach()
    threshold = 0.75 * weight.abs().mean()
    expected = torch.where(weight > threshold, 1.0, 0.0) - torch.where(weight < -threshold, 1.0, 0.0)
    assert torch.equal(graph.model.get_submodule("seq_blocks.0").w_quantizer(weight), expected)
    per_channel = _profiled(model, x, {"abs_mean": {"dims": [0]}})
    with pytest.raises(PassError, match='weight_mean = "NA" needs one number.*dims = "all"'):
        quantize_transform_pass(per_channel, _type_args(MASE_TERNARY))


def test_conv_binary_quantises_every_operand_as_mase() -> None:
    torch.manual_seed(2)
    x = torch.randn(4, 1, 6)
    graph = graph_of(ConvNet(), x)
    graph, _ = quantize_transform_pass(graph, _type_args(MASE_BINARY))
    conv = graph.model.get_submodule("conv1")
    assert type(conv).__name__ == "Conv1dBinary" and set(conv.quantizers) == {"data_in", "weight", "bias"}
    assert torch.equal(conv(x), F.conv1d(torch.where(x >= 0, 1.0, -1.0), torch.where(conv.weight >= 0, 1.0, -1.0),
                                         torch.where(conv.bias >= 0, 1.0, -1.0), padding=1))
