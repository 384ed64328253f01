"""A Conv1d is lowered to a linear over the flattened (C, L) sample: the matrix, its BatchNorms, the affine's channels.

No Verilator here: the RTL of jsc-conv-res is checked in ``test_zoo_rtl.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from prepare_helpers import calibrated, fixed_config, jsc_test_rows, quantised
from torch import nn

from chop.hardware.fixed import FixedFormat
from chop.hardware.ops import FixedAffine, FixedLinear, affine_channels
from chop.hardware.prepare import batch_norm_affine, fold_batch_norms, prepare
from chop.hardware.prepare.conv import affine_per_position, conv1d_geometry, conv1d_matrix, per_position
from chop.hardware.reference import integer_reference, mismatches


@st.composite
def convolutions(draw: st.DrawFn) -> dict[str, Any]:
    """Conv1d settings (zero padding as an int, "valid" or "same") and a length that leaves an output."""
    kernel, dilation = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    padding: int | str = draw(st.one_of(st.integers(0, 3), st.sampled_from(["valid", "same"])))
    stride = 1 if padding == "same" else draw(st.integers(1, 3))
    fixed_padding = 0 if isinstance(padding, str) else padding
    shortest = max(1, dilation * (kernel - 1) + 1 - 2 * fixed_padding)
    return {"in_channels": draw(st.integers(1, 4)), "out_channels": draw(st.integers(1, 4)), "kernel_size": kernel,
            "stride": stride, "padding": padding, "dilation": dilation, "length": draw(st.integers(shortest, shortest + 10)),
            "seed": draw(st.integers(0, 2**16))}


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")  # torch's own copy, not ours
@settings(max_examples=150, deadline=None)
@given(case=convolutions())
def test_the_lowered_linear_computes_torchs_conv1d_on_integer_codes(case: dict[str, Any]) -> None:
    length, seed = case.pop("length"), case.pop("seed")
    conv = nn.Conv1d(**case)
    generator = torch.Generator().manual_seed(seed)
    weight = torch.randint(-128, 128, conv.weight.shape, generator=generator)
    bias = torch.randint(-1000, 1000, (conv.out_channels,), generator=generator)
    x = torch.randint(-128, 128, (7, conv.in_channels, length), generator=generator)
    geometry = conv1d_geometry(conv, length, "node 'c' (conv1d)")
    code = FixedFormat(8, 0)
    acc = FixedFormat(40, 0)  # no rounding: the output codes are the exact sums
    lowered = FixedLinear(conv1d_matrix(weight, geometry), per_position(bias, geometry.out_length), code, code, acc, acc)
    expected = F.conv1d(x.double(), weight.double(), bias.double(), case["stride"], case["padding"], case["dilation"])
    assert expected.shape[1:] == (geometry.out_channels, geometry.out_length)
    assert torch.equal(lowered.integer_forward(x.flatten(1)), expected.flatten(1).to(torch.int64))


def test_the_matrix_of_a_padded_three_tap_conv() -> None:
    conv = nn.Conv1d(1, 2, 3, padding=1)
    weight = torch.tensor([[[1, 2, 3]], [[4, 5, 6]]])
    # row o*4 + t reads positions t-1, t, t+1 of the one input channel; the padding reads nothing
    assert conv1d_matrix(weight, conv1d_geometry(conv, 4, "c")).tolist() == [
        [2, 3, 0, 0], [1, 2, 3, 0], [0, 1, 2, 3], [0, 0, 1, 2],
        [5, 6, 0, 0], [4, 5, 6, 0], [0, 4, 5, 6], [0, 0, 4, 5]]


def test_an_affine_takes_its_channel_from_dimension_1() -> None:
    assert affine_channels(3, 3) == [0, 1, 2]  # (C,): element i is channel i
    assert affine_channels(6, 2) == [0, 0, 0, 1, 1, 1]  # (C, L) = (2, 3) row-major: channel i // L
    fmt, scale_format, acc = FixedFormat(8, 0), FixedFormat(8, 0), FixedFormat(24, 0)
    affine = FixedAffine(torch.tensor([3, -5]), torch.tensor([100, -7]), fmt, scale_format, acc, acc)
    x = torch.tensor([[[1, 2, 3], [4, 5, 6]]])
    expected = [[[103, 106, 109], [-27, -32, -37]]]
    assert affine.integer_forward(x).tolist() == expected
    assert affine(x.double()).tolist() == expected


def _conv_net(seed: int, batch_norm: bool) -> nn.Module:
    torch.manual_seed(seed)
    norm = [nn.BatchNorm1d(3)] if batch_norm else []
    model = nn.Sequential(nn.Conv1d(2, 3, 3, padding=1), *norm, nn.ReLU(), nn.Conv1d(3, 2, 2, stride=2), nn.ReLU(),
                          nn.Flatten(), nn.Linear(16, 3))
    for module in norm:
        module.running_mean.uniform_(-1, 1)
        module.running_var.uniform_(0.25, 4)
        module.weight.data.uniform_(0.5, 2)
        module.bias.data.uniform_(-1, 1)
    return model.eval()


CONFIG = fixed_config(data=(6, 3), weight=(5, 3), bias=(11, 6))
ROWS = torch.randn(500, 2, 16, generator=torch.Generator().manual_seed(1)) * 2


def _graph(batch_norm: bool) -> torch.fx.GraphModule:
    graph = quantised(_conv_net(0, batch_norm), CONFIG, ROWS[:2]).model
    graph.input_shape = (2, 16)
    return graph


def test_a_conv_net_prepares_with_its_batch_norm_folded_or_as_a_per_channel_affine() -> None:
    graph = _graph(batch_norm=True)
    folded, plain = prepare(graph), prepare(graph, fold_batchnorm=False)
    assert folded.info["folded"] == [{"batch_norm": "_1", "into": "_0", "side": "after"}]
    assert folded.info["lowered"] == [{"node": "_0", "op": "conv1d", "matrix": [48, 32]},
                                      {"node": "_3", "op": "conv1d", "matrix": [16, 48]}]
    assert plain.info["affine"] == ["_1"]
    assert isinstance(plain.module.get_submodule("_1"), FixedAffine)
    for preparation in (folded, plain):
        assert mismatches(preparation.module, ROWS) == 0


def test_without_batch_norms_the_prepared_conv_net_is_the_quantised_one() -> None:
    # every rounding is the user's; the user's float32 sums of 6-bit codes and 5-bit weights are exact
    graph = _graph(batch_norm=False)
    preparation = prepare(graph)
    step = FixedFormat(*preparation.info["nodes"]["_5"]["formats"]["data_out_0"]["format"]).step
    with torch.no_grad():
        expected = graph(ROWS).double()
    assert len(expected.unique()) > 20  # the outputs vary: no layer saturates or rounds everything away
    assert torch.equal(integer_reference(preparation.module, ROWS).double() * step, expected)


def test_jsc_conv_res_folds_every_batch_norm_into_its_conv() -> None:
    x, _ = jsc_test_rows(300)
    x = x.reshape(-1, 1, 16)
    preparation = prepare(quantised(calibrated("jsc-conv-res", seed=4), fixed_config(), x[:2]).model)
    assert [(f["batch_norm"], f["into"]) for f in preparation.info["folded"]] == [
        ("stem_1", "stem_0"), ("block_bn1", "block_conv1"), ("block_bn2", "block_conv2")]
    assert preparation.info["affine"] == []
    assert [entry["matrix"] for entry in preparation.info["lowered"]] == [[128, 16], [128, 128], [128, 128]]
    stem = preparation.module.get_submodule("stem_0")
    assert isinstance(stem, FixedLinear)
    assert int((stem.weight != 0).sum(dim=1).max()) == 3 and int((stem.weight != 0).sum(dim=1).min()) == 2
    assert mismatches(preparation.module, x) == 0


@pytest.mark.parametrize("side", ["before", "after"])
def test_a_batch_norm_folds_into_the_lowered_matrix_exactly_at_the_padded_borders(side: str) -> None:
    torch.manual_seed(5)
    conv, bn = nn.Conv1d(2, 3, 3, padding=2, dilation=2).double(), nn.BatchNorm1d(2 if side == "before" else 3).double()
    bn.running_mean.uniform_(-1, 1)
    bn.running_var.uniform_(0.25, 4)
    bn.weight.data.uniform_(0.5, 2)
    bn.bias.data.uniform_(-1, 1)  # a shift before the conv: the padded taps must not see it
    model = (nn.Sequential(bn, conv) if side == "before" else nn.Sequential(conv, bn)).eval()
    geometry = conv1d_geometry(conv, 6, "c")
    length = geometry.in_length if side == "before" else geometry.out_length
    affine = affine_per_position(batch_norm_affine(bn, "bn"), length)
    weight, bias = fold_batch_norms(conv1d_matrix(conv.weight.detach(), geometry),
                                    per_position(conv.bias.detach(), geometry.out_length),
                                    affine if side == "before" else None, affine if side == "after" else None)
    x = torch.randn(50, 2, 6, dtype=torch.float64)
    with torch.no_grad():
        expected = model(x).flatten(1)
    assert torch.allclose(x.flatten(1) @ weight.T + bias, expected, rtol=0, atol=1e-12)


def test_preparing_a_conv_net_in_train_mode_leaves_the_users_graph_as_it_was() -> None:
    graph = _graph(batch_norm=True).train()
    before = {name: value.clone() for name, value in graph.state_dict().items()}
    prepare(graph)
    assert graph.training
    assert all(torch.equal(value, before[name]) for name, value in graph.state_dict().items())
