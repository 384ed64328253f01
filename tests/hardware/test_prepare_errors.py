"""What preparation refuses, each a one-line ``HardwareError`` that names the node and says what to do."""

from __future__ import annotations

import re

import pytest
import torch
from prepare_helpers import INTEGER_8_4, fixed_config, graph_of, quantised
from torch import Tensor, nn

from chop.errors import HardwareError
from chop.hardware.prepare import prepare
from chop.models import get_model
from chop.passes.graph.transforms import quantize_transform_pass


def _refused(graph_module: torch.fx.GraphModule, message: str) -> None:
    with pytest.raises(HardwareError) as caught:
        prepare(graph_module)
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("quantised_ops", "node", "op"), [
    (("linear", "relu"), "seq_blocks_0", "batch_norm1d"),
    (("batch_norm1d", "relu"), "seq_blocks_2", "linear"),
])
def test_a_float_node_is_named_with_how_to_quantise_it(quantised_ops, node, op) -> None:
    entries = {name: {"config": dict(INTEGER_8_4)} for name in quantised_ops}
    graph, _ = quantize_transform_pass(graph_of(get_model("jsc-tiny")), {"by": "type", **entries})
    _refused(graph.model, f"node '{node}' ({op}) is not quantised; give it a [passes.quantize] entry with "
                          f"name = \"integer\"")


def test_an_op_without_a_hardware_twin_is_named() -> None:
    model = nn.Sequential(nn.Linear(4, 3), nn.Sigmoid()).eval()
    _refused(quantised(model, INTEGER_8_4, torch.randn(2, 4)).model,
             "node '_1' (sigmoid) has no hardware twin; the hardware flow supports linear, batch_norm1d, relu, add, "
             "conv1d, flatten, view, reshape")


@pytest.mark.parametrize(("conv", "message"), [
    (nn.Conv1d(4, 4, 3, groups=2), "node '_0' (conv1d) has groups=2; the hardware flow supports conv1d with groups=1 "
                                   "(a dense convolution)"),
    (nn.Conv1d(4, 4, 3, padding=1, padding_mode="circular"),
     "node '_0' (conv1d) has padding_mode='circular'; the hardware flow supports conv1d with padding_mode='zeros'"),
])
def test_an_unsupported_convolution_is_named(conv: nn.Conv1d, message: str) -> None:
    model = nn.Sequential(conv, nn.ReLU()).eval()
    graph = quantised(model, INTEGER_8_4, torch.randn(2, 4, 8)).model
    graph.input_shape = (4, 8)
    _refused(graph, message)


def test_a_convolution_needs_the_input_shape() -> None:
    graph = quantised(nn.Sequential(nn.Conv1d(2, 3, 3), nn.ReLU()).eval(), INTEGER_8_4, torch.randn(2, 2, 8)).model
    assert getattr(graph, "input_shape", None) is None
    _refused(graph, "node '_0' (conv1d): the length of its input is unknown; give the graph its sample shape "
                    "(graph_module.input_shape = (channels, length))")


def test_an_accumulator_beyond_52_bits() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 2)).eval()
    config = fixed_config(data=(32, 8), weight=(24, 20), bias=(24, 8))
    with pytest.raises(HardwareError) as caught:
        prepare(quantised(model, config, torch.randn(2, 16)).model)
    message = str(caught.value)
    assert re.fullmatch(r"node '_0' \(linear\): the accumulator needs (\d+) bits \(codes -\d+\.\.\d+\), more than the "
                        r"52 the integer reference computes exactly; use narrower weights or inputs", message), message
    # 16 products of a 32-bit input and weights near 2^19: about 32 + 20 + 4 bits
    assert 54 <= int(re.search(r"needs (\d+) bits", message).group(1)) <= 57


class TwoReaders(nn.Module):
    """One value read by two layers: their data_in formats must agree."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(4, 4), nn.Linear(4, 2), nn.Linear(4, 2)

    def forward(self, x: Tensor) -> Tensor:
        a = self.fc1(x)
        return self.fc2(a) + self.fc3(a)


def test_consumers_asking_for_different_formats() -> None:
    graph = graph_of(TwoReaders().eval(), torch.randn(2, 4))
    graph, _ = quantize_transform_pass(graph, {"by": "name", "default": {"config": dict(INTEGER_8_4)},
                                               "fc3": {"config": fixed_config(data=(6, 2))}})
    _refused(graph.model, "node 'fc1' feeds nodes with different data_in formats ('fc2' fixed<8,4>, 'fc3' fixed<6,2>); "
                          "give them the same data_in width, frac_width and signedness")


def test_a_format_with_no_fixed_point_twin() -> None:
    config = {"name": "minifloat_ieee", "data_in_width": 8, "data_in_exponent_width": 4, "weight_width": 8,
              "weight_exponent_width": 4, "bias_width": 8, "bias_exponent_width": 4}
    graph = quantised(nn.Sequential(nn.Linear(4, 3)).eval(), config, torch.randn(2, 4))
    _refused(graph.model, "node '_0' (linear): format 'minifloat_ieee' has no fixed-point hardware twin; quantise it "
                          "with name = \"integer\" (width, frac_width)")


class AddsAConstant(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(x) + 1.0


def test_adding_a_constant_has_no_twin() -> None:
    graph = quantised(AddsAConstant().eval(), INTEGER_8_4, torch.randn(2, 4))
    _refused(graph.model, "node 'add' (add) has no hardware twin for arguments (fc, 1.0): only add of 2 graph values "
                          "is supported")


def test_a_batch_norm_without_running_statistics() -> None:
    model = nn.Sequential(nn.BatchNorm1d(4, track_running_stats=False), nn.ReLU(), nn.Linear(4, 2)).eval()
    _refused(quantised(model, INTEGER_8_4, torch.randn(2, 4)).model,
             "node '_0' (batch_norm1d) keeps no running statistics (track_running_stats=False), so it is no fixed "
             "affine map; build it with running statistics")


def test_a_prepared_graph_is_not_prepared_again() -> None:
    prepared = prepare(quantised(nn.Sequential(nn.Linear(4, 3)).eval(), INTEGER_8_4, torch.randn(2, 4)).model)
    _refused(prepared.module, "node 'fixed_input' is already a hardware twin (fixed_input): the graph is prepared; "
                              "prepare the quantised graph it came from")
