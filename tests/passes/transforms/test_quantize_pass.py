"""quantize_transform_pass and summarize_quantization_analysis_pass on jsc-tiny and small test nets."""

from __future__ import annotations

import copy
import csv

import pytest
import torch
import torch.nn.functional as F
from quantize_helpers import LINEAR_8_4, SPEC_ARGS, ConvNet, FunctionalNet, graph_of, hand_quantize

from chop.errors import PassError
from chop.models import get_model
from chop.passes.graph.transforms import (
    get_quantized_weights,
    quantize_transform_pass,
    summarize_quantization_analysis_pass,
)


@pytest.fixture()
def tiny() -> tuple:
    torch.manual_seed(0)
    model = get_model("jsc-tiny").eval()
    x = torch.randn(64, 16) * 3
    return model, x, graph_of(model, x)


def test_jsc_tiny_histogram_and_table_match_the_spec(tiny: tuple, tmp_path) -> None:  # noqa: ANN001
    _, _, graph = tiny
    original = copy.deepcopy(graph)
    graph, info = quantize_transform_pass(graph, SPEC_ARGS)
    assert info["quantized_nodes"] == ["seq_blocks_2"]
    summarize_quantization_analysis_pass(original, graph, tmp_path)
    with open(tmp_path / "quantize_histogram.csv") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["Original type", "OP", "Total", "Changed", "Unchanged"], ["BatchNorm1d", "batch_norm1d", "1", "0", "1"],
                    ["Linear", "linear", "1", "1", "0"], ["ReLU", "relu", "2", "0", "2"],
                    ["output", "output", "1", "0", "1"], ["x", "placeholder", "1", "0", "1"]]
    with open(tmp_path / "quantize_table.csv") as handle:
        table = list(csv.DictReader(handle))
    assert [r[""] for r in table] == ["0", "1", "2", "3", "4", "5"]  # pandas' index column, as MASE writes it
    assert [r["Ori name"] for r in table] == ["x", "seq_blocks_0", "seq_blocks_1", "seq_blocks_2", "seq_blocks_3", "output"]
    linear = table[3]
    assert (linear["MASE_TYPE"], linear["Mase_OP"], linear["Original type"], linear["Quantized type"], linear["Changed"]) \
        == ("module_related_func", "linear", "Linear", "LinearInteger", "True")


def test_logged_histogram_has_the_csv_columns(tiny: tuple, caplog: pytest.LogCaptureFixture) -> None:
    _, _, graph = tiny
    original = copy.deepcopy(graph)
    graph, _ = quantize_transform_pass(graph, SPEC_ARGS)
    with caplog.at_level("INFO", logger="chop"):
        summarize_quantization_analysis_pass(original, graph)
    assert caplog.messages == ["Quantized graph histogram:\n"
                               "Original type  OP            Total  Changed  Unchanged\n"
                               "BatchNorm1d    batch_norm1d      1        0          1\n"
                               "Linear         linear            1        1          0\n"
                               "ReLU           relu              2        0          2\n"
                               "output         output            1        0          1\n"
                               "x              placeholder       1        0          1"]


def test_weights_lie_on_the_grid(tiny: tuple) -> None:
    _, _, graph = tiny
    graph.model.get_submodule("seq_blocks.2").weight.data.mul_(40)  # push some weights beyond the range
    quantize_transform_pass(graph, SPEC_ARGS)
    weights = get_quantized_weights(graph, "seq_blocks_2")
    for tensor in weights.values():
        assert torch.equal(tensor * 16, torch.round(tensor * 16))
        assert tensor.min().item() >= -8.0 and tensor.max().item() <= 7.9375
    assert weights["weight"].min().item() == -8.0 and weights["weight"].max().item() == 7.9375
    float_weight = graph.model.get_submodule("seq_blocks.2").weight
    assert float_weight.abs().max().item() > 8  # the float master weights are kept


def test_jsc_tiny_forward_equals_hand_reference(tiny: tuple) -> None:
    model, x, graph = tiny
    bn, linear = model.seq_blocks[0], model.seq_blocks[2]
    hidden = F.relu(bn(x))
    expected = F.relu(F.linear(hand_quantize(hidden, 8, 4), hand_quantize(linear.weight, 8, 4),
                               hand_quantize(linear.bias, 8, 4)))
    graph, _ = quantize_transform_pass(graph, SPEC_ARGS)
    with torch.no_grad():
        assert torch.equal(graph.model(x), expected)
    assert not torch.equal(model(x), expected)  # quantisation did change something


def test_functional_ops_are_replaced_and_match_hand_reference() -> None:
    torch.manual_seed(1)
    net = FunctionalNet()
    x = torch.randn(5, 4) * 2
    graph = graph_of(net, x)
    original = copy.deepcopy(graph)
    q6 = {"name": "integer", "data_in_width": 6, "data_in_frac_width": 3}
    args = {"by": "type", "default": {"config": dict(q6)},
            "linear": {"config": {**q6, "weight_width": 5, "weight_frac_width": 2, "bias_width": 5}}}
    graph, info = quantize_transform_pass(graph, args)
    assert len(info["quantized_nodes"]) == 8

    def q(t: torch.Tensor, signed: bool = True) -> torch.Tensor:
        return hand_quantize(t, 6, 3, signed)

    a = F.linear(q(x), hand_quantize(net.fc.weight, 5, 2), hand_quantize(net.fc.bias, 5, 2))
    b = F.relu(q(q(a) + q(x), signed=False))
    c = q(q(b) * q(x)) - q(a)
    d = torch.matmul(q(c), q(net.mix))
    e = torch.bmm(q(d.unsqueeze(2)), q(c.unsqueeze(1)))
    expected = q(e.sum(dim=2)) + q(d)
    with torch.no_grad():
        assert torch.equal(graph.model(x), expected)
    code = graph.model.code
    for name in ("add_integer", "sub_integer", "mul_integer", "matmul_integer", "bmm_integer", "relu_integer"):
        assert name in code
    _, summary = summarize_quantization_analysis_pass(original, graph)
    changed = {row.original_type: row.changed for row in summary["table"]}
    assert changed["add"] and changed["relu"] and changed["bmm"] and changed["Linear"]
    assert not changed["sum"] and not changed["unsqueeze"]


def test_conv_and_batchnorm_twins_match_hand_reference() -> None:
    torch.manual_seed(2)
    net = ConvNet().eval()
    x = torch.randn(3, 1, 8)
    graph = graph_of(net, x)
    config = {"name": "fixed", "data_in_width": 8, "weight_width": 6, "weight_frac_width": 4, "bias_width": 6}
    graph, _ = quantize_transform_pass(graph, {"by": "type", "default": {"config": config}})
    kinds = [type(m).__name__ for m in (graph.model.conv1, graph.model.bn, graph.model.conv2)]
    assert kinds == ["Conv1dInteger", "BatchNorm1dInteger", "Conv2dInteger"]

    def w(t: torch.Tensor) -> torch.Tensor:
        return hand_quantize(t, 6, 4)

    def b(t: torch.Tensor) -> torch.Tensor:
        return hand_quantize(t, 6, 3)

    y = F.conv1d(hand_quantize(x, 8, 4), w(net.conv1.weight), b(net.conv1.bias), padding=1)
    y = F.batch_norm(hand_quantize(y, 8, 4), net.bn.running_mean, net.bn.running_var, w(net.bn.weight), b(net.bn.bias),
                     False, 0.0, net.bn.eps)
    expected = F.conv2d(hand_quantize(y.unsqueeze(1), 8, 4), w(net.conv2.weight), b(net.conv2.bias))
    with torch.no_grad():
        assert torch.equal(graph.model(x), expected)


def test_metadata_records_the_new_precision_and_callers_dict_is_untouched(tiny: tuple) -> None:
    _, _, graph = tiny
    args = copy.deepcopy(SPEC_ARGS)
    quantize_transform_pass(graph, args)
    assert args == SPEC_ARGS
    common = graph.node("seq_blocks_2").meta["mase"]["common"]
    for arg in ("data_in_0", "weight", "bias"):
        assert (common["args"][arg]["type"], common["args"][arg]["precision"]) == ("integer", [8, 4])
    assert graph.node("seq_blocks_0").meta["mase"]["common"]["args"]["weight"]["precision"] == [32]
    module = graph.model.get_submodule("seq_blocks.2")
    assert module.config == LINEAR_8_4
    module.config["weight_width"] = 2  # the module's copy, not the caller's
    assert SPEC_ARGS["linear"]["config"]["weight_width"] == 8


def test_relu_input_is_unsigned_unless_said_otherwise(tiny: tuple) -> None:
    _, _, graph = tiny
    relu = {"name": "integer", "data_in_width": 4, "data_in_frac_width": 1}
    graph, _ = quantize_transform_pass(graph, {"by": "name", "seq_blocks_1": {"config": relu},
                                               "seq_blocks_3": {"config": {**relu, "data_in_signed": True}}})
    x = torch.tensor([[-9.0, 0.3, 7.4, 9.0]])
    assert graph.model.get_submodule("seq_blocks.1")(x).tolist() == [[0.0, 0.5, 7.5, 7.5]]  # [0, 15] / 2
    assert graph.model.get_submodule("seq_blocks.3")(x).tolist() == [[0.0, 0.5, 3.5, 3.5]]  # [-8, 7] / 2 then relu


def test_by_name_and_regex_name_and_skips(tiny: tuple) -> None:
    model, x, _ = tiny
    graph = graph_of(model, x)
    _, info = quantize_transform_pass(graph, {"by": "regex_name", "seq_blocks_[13]": {"config": {"name": "NA"}},
                                              "seq_blocks_.*": {"config": {"name": "integer", "data_in_width": 8,
                                                                           "weight_width": 8, "bias_width": 8}}})
    assert info["quantized_nodes"] == ["seq_blocks_0", "seq_blocks_2"]
    graph = graph_of(model, x)
    four_bits = {"name": "integer", "data_in_width": 4, "weight_width": 4, "bias_width": 4}
    _, info = quantize_transform_pass(graph, {"by": "name", "default": {"config": four_bits},
                                              "seq_blocks_2": {"config": {"name": None}}})
    assert info["quantized_nodes"] == ["seq_blocks_0", "seq_blocks_1", "seq_blocks_3"]


@pytest.mark.parametrize(("args", "message"), [
    ({"by": "type", "linaer": {"config": LINEAR_8_4}}, "unknown quantisable op 'linaer' (did you mean 'linear'?)"),
    ({"by": "type", "linear": {"config": {**LINEAR_8_4, "name": "integr"}}},
     "node seq_blocks_2 (linear): unknown quantizer 'integr' (did you mean 'integer'?)"),
    ({"by": "type", "linear": {"config": {"name": "integer", "data_in_width": 8, "weight_width": 8}}},
     "node seq_blocks_2 (linear): bias_width is required by quantizer 'integer' but missing"),
    ({"by": "type", "linear": {"config": {**LINEAR_8_4, "weight_width": 0}}},
     "node seq_blocks_2 (linear): weight_width must be a positive integer, got 0"),
    ({"by": "type", "linear": {"config": {**LINEAR_8_4, "bias_frac_width": 9}}},
     "node seq_blocks_2 (linear): bias_frac_width 9 is larger than width 8"),
    ({"by": "type", "linear": {"config": {**LINEAR_8_4, "weight_widht": 8}}},
     "node seq_blocks_2 (linear): unknown key 'weight_widht' for quantizer 'integer' (did you mean 'weight_width'?)"),
    ({"by": "name", "seq_blocks_9": {"config": LINEAR_8_4}}, "no node named 'seq_blocks_9'"),
    ({"by": "name", "output": {"config": LINEAR_8_4}}, "node output (output, output) cannot be quantised; quantisable: modules linear"),
    ({"by": "shape"}, "'by' must be one of type, name, regex_name, got 'shape'"),
    ({"by": "type", "linear": {"name": "integer"}}, "entry 'linear' must be a table with a 'config' table"),
])
def test_errors_are_one_line_and_leave_the_graph_alone(tiny: tuple, args: dict, message: str) -> None:
    _, _, graph = tiny
    before = graph.model.code
    with pytest.raises(PassError) as error:
        quantize_transform_pass(graph, args)
    assert message in str(error.value) and "\n" not in str(error.value)
    assert graph.model.code == before and type(graph.model.get_submodule("seq_blocks.2")).__name__ == "Linear"


@pytest.mark.parametrize(("config", "twin"), [
    ({"name": "ap_fixed", "data_in_width": 8, "data_in_int_width": 4, "data_in_rounding": "RND_CONV",
      "data_in_overflow": "SAT", "weight_width": 8, "weight_int_width": 4, "bias_width": 8, "bias_int_width": 4},
     "LinearApFixed"),
    ({"name": "minifloat_ieee", **{f"{o}_{k}": v for o in ("data_in", "weight", "bias")
                                   for k, v in (("width", 8), ("exponent_width", 4))}}, "LinearMinifloatIEEE"),
    ({"name": "minifloat_denorm", **{f"{o}_{k}": v for o in ("data_in", "weight", "bias")
                                     for k, v in (("width", 6), ("exponent_width", 3))}}, "LinearMinifloatDenorm"),
    ({"name": "log", "data_in_width": 5, "weight_width": 5, "bias_width": 5}, "LinearLog"),
    ({"name": "block_fp", **{f"{o}_{k}": v for o in ("data_in", "weight", "bias")
                             for k, v in (("width", 6), ("exponent_width", 4), ("block_size", 4))}}, "LinearBlockFP"),
    ({"name": "binary"}, "LinearBinary"),
    ({"name": "ternary", "weight_threshold": 0.05}, "LinearTernary"),
])
def test_every_format_has_a_linear_twin(tiny: tuple, config: dict, twin: str) -> None:
    _, x, graph = tiny
    graph, _ = quantize_transform_pass(graph, {"by": "type", "linear": {"config": config}})
    module = graph.model.get_submodule("seq_blocks.2")
    assert type(module).__name__ == twin
    expected_weight = module.quantizers["weight"](module.weight)
    assert torch.equal(get_quantized_weights(graph, "seq_blocks_2")["weight"], expected_weight)
    with torch.no_grad():
        assert torch.isfinite(graph.model(x)).all()


def test_straight_through_gradients_reach_float_weights(tiny: tuple) -> None:
    _, x, graph = tiny
    graph, _ = quantize_transform_pass(graph, SPEC_ARGS)
    linear = graph.model.get_submodule("seq_blocks.2")
    graph.model(x).sum().backward()
    hidden = F.relu(graph.model.get_submodule("seq_blocks.0")(x)).detach()
    w = hand_quantize(linear.weight.detach(), 8, 4).requires_grad_()
    F.relu(F.linear(hand_quantize(hidden, 8, 4), w, hand_quantize(linear.bias.detach(), 8, 4))).sum().backward()
    assert torch.allclose(linear.weight.grad, w.grad)


def test_ap_fixed_type_strings_as_hls4ml_writes_them(tiny: tuple) -> None:
    _, _, graph = tiny
    config = {"name": "ap_fixed", "data_in_type": "ap_ufixed<8,3,AP_RND_CONV,AP_SAT>",
              "weight_type": "ap_fixed<6,1,AP_RND,AP_SAT_SYM>", "bias_width": 8, "bias_int_width": 4}
    graph, _ = quantize_transform_pass(graph, {"by": "type", "linear": {"config": config}})
    quantizers = graph.model.get_submodule("seq_blocks.2").quantizers
    assert {k: str(q) for k, q in quantizers.items()} == {
        "data_in": "ap_ufixed<8,3,AP_RND_CONV,AP_SAT>", "weight": "ap_fixed<6,1,AP_RND,AP_SAT_SYM>",
        "bias": "ap_fixed<8,4,AP_TRN,AP_WRAP>"}
    assert graph.node("seq_blocks_2").meta["mase"]["common"]["args"]["weight"]["precision"] == [6, 1]
    with pytest.raises(PassError, match="weight_type already sets width"):
        quantize_transform_pass(graph, {"by": "type", "linear": {"config": {**config, "weight_width": 6}}})


def test_a_second_pass_requantises_modules_and_functions() -> None:
    torch.manual_seed(4)
    x = torch.randn(5, 4)
    graph = graph_of(FunctionalNet(), x)
    eight = {"name": "integer", "data_in_width": 8, "weight_width": 8, "bias_width": 8}
    graph, _ = quantize_transform_pass(graph, {"by": "type", "default": {"config": eight}})
    graph, info = quantize_transform_pass(graph, {"by": "type", "default": {"config": {"name": "binary"}}})
    assert len(info["quantized_nodes"]) == 8
    assert type(graph.model.fc).__name__ == "LinearBinary" and "add_binary" in graph.model.code
    assert "add_integer" not in graph.model.code
    assert graph.node("fc").meta["mase"]["common"]["args"]["weight"]["precision"] == [1]


def test_a_list_block_size_quantises_functional_ops_too() -> None:
    """MASE's block_fp.toml gives ``data_in_block_size = [1, 16]``; a quantised ``add`` keys its
    config cache on the config, so the list must not make it unhashable."""
    from chop.quantizers import block_fp_quantizer

    class Residual(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = torch.nn.Linear(16, 16)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(x) + x

    torch.manual_seed(0)
    model = Residual()
    config = {"name": "block_fp", "data_in_width": 7, "data_in_exponent_width": 8, "data_in_exponent_bias": 127,
              "data_in_block_size": [1, 16]}
    graph = graph_of(model, torch.randn(8, 16))
    graph, _ = quantize_transform_pass(graph, {"by": "type", "add": {"config": config}})
    x = torch.randn(4, 16)
    block = {"width": 7, "exponent_width": 8, "exponent_bias": 127, "block_size": [1, 16], "skip_first_dim": True}
    expected = block_fp_quantizer(model.fc(x), **block) + block_fp_quantizer(x, **block)
    assert torch.equal(graph.model(x), expected)
