"""Preparation on graphs of every supported shape: adds, reshapes, options, what ``info`` reports."""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from prepare_helpers import INTEGER_8_4, calibrated, fixed_config, quantised
from torch import Tensor, nn

from chop.hardware.fixed import FixedFormat
from chop.hardware.ops import FixedAdd, FixedAffine, FixedInput, FixedLinear, FixedReLU
from chop.hardware.prepare import prepare
from chop.hardware.reference import integer_reference, output_format
from chop.passes.graph.interface import load_mase_graph_interface_pass
from chop.passes.graph.transforms import quantize_transform_pass

LEGACY = Path(__file__).resolve().parents[1] / "fixtures" / "legacy_mz"


class Residual(nn.Module):
    """Input (N, 2, 4): nn.Flatten, a functional relu, a residual add, view/size, torch.flatten and reshape."""

    def __init__(self) -> None:
        super().__init__()
        self.flat = nn.Flatten()
        self.fc1, self.fc2, self.fc3 = nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 3)

    def forward(self, x: Tensor) -> Tensor:
        a = torch.relu(self.fc1(self.flat(x)))
        c = a + self.fc2(a)
        d = torch.flatten(c.view(c.size(0), -1), 1)
        return self.fc3(d.reshape(-1, 8))


def test_residual_add_and_reshapes_are_prepared_and_exact() -> None:
    torch.manual_seed(0)
    model = Residual().eval()
    graph = quantised(model, INTEGER_8_4, torch.randn(2, 2, 4))
    prepared = prepare(graph.model).module
    ops = [(node.op, node.target if node.op != "call_module" else type(prepared.get_submodule(node.target)))
           for node in prepared.graph.nodes]
    assert ops == [("placeholder", "x"), ("call_module", FixedInput), ("call_function", torch.flatten),
                   ("call_module", FixedLinear), ("call_module", FixedReLU), ("call_module", FixedLinear),
                   ("call_module", FixedAdd), ("call_method", "size"), ("call_method", "view"),
                   ("call_function", torch.flatten), ("call_method", "reshape"), ("call_module", FixedLinear),
                   ("output", "output")]
    x = torch.randn(500, 2, 4) * 3
    codes = integer_reference(prepared, x)
    with torch.no_grad():
        reals = prepared(x)
        user = graph.model(x)
    assert torch.equal(reals * 2.0 ** output_format(prepared).frac, codes.to(torch.float64))
    # no batch norm, accumulators far below float32's 24 bits: nothing changed, so the user's model agrees exactly
    assert torch.equal(user.to(torch.float64), reals)
    assert len(codes.unique()) > 200


def test_outputs_keep_the_exact_format_of_their_producer() -> None:
    linear_last = prepare(quantised(nn.Sequential(nn.Linear(4, 3)).eval(), INTEGER_8_4, torch.randn(2, 4)).model)
    twin = linear_last.module.get_submodule("_0")
    assert output_format(linear_last.module) == twin.acc_format == twin.out_format
    assert linear_last.info["nodes"]["_0"]["formats"]["data_out_0"]["source"] == (
        "exact: the accumulator (the value reaches the output)")
    relu_last = prepare(quantised(nn.Sequential(nn.Linear(4, 3), nn.ReLU()).eval(), INTEGER_8_4,
                                  torch.randn(2, 4)).model).module
    assert output_format(relu_last) == FixedFormat(8, 4, signed=False)  # the ReLU's own data_in: unsigned


def test_input_format_option_sets_what_the_input_port_carries() -> None:
    graph = quantised(calibrated("jsc-tiny", seed=1), INTEGER_8_4)
    preparation = prepare(graph.model, input_format=FixedFormat(10, 6))
    assert preparation.module.get_submodule("fixed_input").out_format == FixedFormat(10, 6)
    assert preparation.module.get_submodule("seq_blocks_0").in_format == FixedFormat(10, 6)
    assert preparation.info["input"] == {"format": [10, 6, 1], "source": "input_format option"}
    default = prepare(graph.model).info["input"]
    assert default == {"format": [8, 4, 1], "source": "data_in entry of 'seq_blocks_0'"}


def test_without_folding_every_batch_norm_is_an_affine_op() -> None:
    graph = quantised(calibrated("jsc-toy", seed=2), INTEGER_8_4)
    preparation = prepare(graph.model, fold_batchnorm=False)
    assert preparation.info["folded"] == []
    assert preparation.info["affine"] == ["seq_blocks_0", "seq_blocks_3", "seq_blocks_6", "seq_blocks_9"]
    assert sum(isinstance(m, FixedAffine) for m in preparation.module.modules()) == 4
    x = torch.randn(300, 16)
    with torch.no_grad():
        reals = preparation.module(x)
    assert torch.equal(reals * 2.0 ** output_format(preparation.module).frac,
                       integer_reference(preparation.module, x).to(torch.float64))


def test_info_says_which_formats_came_from_entries_and_which_were_derived() -> None:
    config = fixed_config(weight=(6, 3))
    graph = quantised(calibrated("jsc-toy", seed=3), config)
    info = prepare(graph.model).info
    affine = info["nodes"]["seq_blocks_0"]
    assert affine["kind"] == "fixed_affine" and affine["from"] == ["seq_blocks_0"]
    assert affine["formats"]["data_in_0"] == {"format": [8, 4, 1], "source": "data_in entry of 'seq_blocks_0'"}
    assert affine["formats"]["weight"]["format"][0] == 6  # the batch norm entry's weight width
    assert affine["formats"]["weight"]["source"].startswith("derived: the scale gamma/sqrt(var+eps), width of the "
                                                            "weight entry of 'seq_blocks_0'")
    assert affine["formats"]["data_out_0"] == {"format": [8, 4, 0], "source": "data_in entry of 'seq_blocks_1'"}
    folded = info["nodes"]["seq_blocks_2"]
    assert folded["kind"] == "fixed_linear" and folded["from"] == ["seq_blocks_2", "seq_blocks_3"]
    assert folded["formats"]["weight"]["format"][0] == 6
    assert folded["formats"]["weight"]["source"].startswith("derived: width of the weight entry of 'seq_blocks_2'")
    assert folded["formats"]["bias"]["source"] == "derived: the folded bias, exact at the accumulator's frac"
    assert folded["formats"]["accumulator"]["source"] == "derived: exact bounds over the input format's codes"
    assert folded["formats"]["data_out_0"]["source"] == "data_in entry of 'seq_blocks_4'"
    assert list(info["nodes"]) == ["fixed_input", "seq_blocks_0", "seq_blocks_1", "seq_blocks_2", "seq_blocks_4",
                                   "seq_blocks_5", "seq_blocks_7", "seq_blocks_8", "seq_blocks_10"]


def test_plain_linear_keeps_its_entry_formats() -> None:
    graph = quantised(calibrated("jsc-tiny", seed=4), fixed_config(weight=(6, 5), bias=(8, 6)))
    preparation = prepare(graph.model)
    twin = preparation.module.get_submodule("seq_blocks_2")
    source = graph.model.get_submodule("seq_blocks.2")
    assert twin.weight_format == FixedFormat(6, 5) and twin.acc_format.frac == 9  # max(4 + 5, 6)
    assert torch.equal(twin.weight.to(torch.float64) / 2**5, source.w_quantizer(source.weight.detach()).double())
    assert torch.equal(twin.bias.to(torch.float64) / 2**9, source.b_quantizer(source.bias.detach()).double())
    assert preparation.info["nodes"]["seq_blocks_2"]["formats"]["weight"]["source"] == "weight entry of 'seq_blocks_2'"


def test_the_users_graph_is_left_as_it_was() -> None:
    graph = quantised(calibrated("jsc-toy", seed=5), INTEGER_8_4)
    state, code = copy.deepcopy(graph.model.state_dict()), graph.model.code
    modules = {name: type(m) for name, m in graph.model.named_modules()}
    prepare(graph.model)
    assert graph.model.code == code and {name: type(m) for name, m in graph.model.named_modules()} == modules
    assert all(torch.equal(state[k], v) for k, v in graph.model.state_dict().items())


def test_a_graph_saved_by_an_earlier_version_prepares() -> None:
    """Its twins were pickled under earlier module paths; its batch norm was left in float, so quantise that."""
    graph, _ = load_mase_graph_interface_pass(None, {"load_dir": LEGACY / "v2_jsc_tiny_integer"})
    graph, _ = quantize_transform_pass(graph, {"by": "name", "seq_blocks_0": {"config": dict(INTEGER_8_4)}})
    prepared = prepare(graph.model).module
    assert prepared.get_submodule("seq_blocks_1").out_format == FixedFormat(8, 4)  # the linear's data_in
    assert prepared.get_submodule("seq_blocks_0").out_format == FixedFormat(6, 2, signed=False)  # the relu's
    x = torch.randn(200, 16)
    with torch.no_grad():
        reals = prepared(x)
    assert torch.equal(reals * 2.0 ** output_format(prepared).frac, integer_reference(prepared, x).to(torch.float64))
