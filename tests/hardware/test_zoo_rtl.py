"""Every JSC zoo model, from a float model to Verilator: RTL == integer reference == prepared fake-quantised PyTorch.

The chain of the issue, on 1,000 rows of the bundled jsc-pythia test split for each model (jsc-conv-res
reads them as (1, 16) sequences; its three Conv1d are lowered to linear layers), on a small conv net
whose BatchNorm stays a per-channel affine on (C, L), and on random small MLPs (random widths, fraction bits, signedness, with and without BatchNorm) quantised
the way a user does it, prepared by the pass, emitted and simulated (each example is a Verilator
build of a few seconds: a handful of examples).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prepare_helpers import INTEGER_8_4, calibrated, fixed_config, jsc_test_rows, quantised
from rtl_helpers import lint, runtime_cache
from torch import nn

from chop.hardware.reference import integer_reference, mismatches
from chop.hardware.rtl import emit_rtl
from chop.hardware.simulate import simulate
from chop.models.input_shape import input_shape_of
from chop.passes.graph.transforms import prepare_hardware_transform_pass

__all__ = ["runtime_cache"]  # the fixture, imported for this module's tests

ROWS = 1000
ZOO = ["jsc-tiny", "jsc-toy", "jsc-s", "jsc-three-linear", "jsc-conv-res"]


def rtl_mismatches(model: nn.Module, config: dict[str, Any], x: torch.Tensor, work: Path, cache: Path,
                   fold_batchnorm: bool = True) -> tuple[int, int]:
    """(rows where prepared PyTorch and the integer reference differ, rows where the RTL differs from it)."""
    graph = quantised(model, config, x[:2])
    graph.model.input_shape = tuple(x.shape[1:])
    prepared, _ = prepare_hardware_transform_pass(graph, {"fold_batchnorm": fold_batchnorm})
    design = emit_rtl(prepared.model, work / "rtl")
    assert lint(design) == ""
    result = simulate(design, design.input_format.quantize(x), work / "sim", runtime_cache=cache)
    expected = integer_reference(prepared, x)
    return mismatches(prepared, x), int((result.outputs != expected).any(dim=-1).sum())


@pytest.mark.parametrize("name", ZOO)
def test_zoo_model_rtl_matches_the_reference_on_the_test_split(name: str, tmp_path: Path, runtime_cache: Path) -> None:
    x, _ = jsc_test_rows(ROWS)
    model = calibrated(name, seed=ZOO.index(name))
    x = x.reshape(-1, *input_shape_of(model))
    assert rtl_mismatches(model, INTEGER_8_4, x, tmp_path, runtime_cache) == (0, 0)


def test_a_conv_nets_per_channel_affine_on_channels_and_positions_matches_in_verilator(tmp_path: Path,
                                                                                      runtime_cache: Path) -> None:
    torch.manual_seed(3)
    model = nn.Sequential(nn.Conv1d(2, 3, 3, padding=1), nn.BatchNorm1d(3), nn.ReLU(), nn.Flatten(), nn.Linear(15, 4))
    batch_norm = model[1]
    batch_norm.running_mean.uniform_(-1, 1)
    batch_norm.running_var.uniform_(0.25, 4)
    batch_norm.weight.data.uniform_(0.5, 2)
    batch_norm.bias.data.uniform_(-1, 1)
    x = torch.randn(ROWS, 2, 5, generator=torch.Generator().manual_seed(3)) * 2
    config = fixed_config(data=(7, 3), weight=(6, 4), bias=(12, 7))
    assert rtl_mismatches(model.eval(), config, x, tmp_path, runtime_cache, fold_batchnorm=False) == (0, 0)


@st.composite
def small_mlps(draw: st.DrawFn) -> tuple[nn.Module, dict[str, Any]]:
    widths = draw(st.lists(st.integers(1, 8), min_size=2, max_size=3))
    layers: list[nn.Module] = []
    if draw(st.booleans()):
        layers += [nn.BatchNorm1d(widths[0]), nn.ReLU()]
    for n_in, n_out in zip(widths, widths[1:]):
        layers += [nn.Linear(n_in, n_out)] + ([nn.BatchNorm1d(n_out)] if draw(st.booleans()) else []) + [nn.ReLU()]
    torch.manual_seed(draw(st.integers(0, 2**16)))
    model = nn.Sequential(*layers)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm1d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.25, 4)
            module.weight.data.uniform_(0.5, 2)
            module.bias.data.uniform_(-1, 1)
    data_width, weight_width = draw(st.integers(3, 10)), draw(st.integers(2, 8))
    data = (data_width, draw(st.integers(0, min(6, data_width))))
    weight = (weight_width, draw(st.integers(0, min(6, weight_width))))
    config = fixed_config(data=data, weight=weight, bias=(data[0] + weight[0], data[1] + weight[1]))
    return model.eval(), config


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=small_mlps())
def test_random_quantised_mlps_match_in_verilator(case: tuple[nn.Module, dict[str, Any]],
                                                  tmp_path_factory: pytest.TempPathFactory, runtime_cache: Path) -> None:
    model, config = case
    n_in = next(m for m in model if isinstance(m, (nn.Linear, nn.BatchNorm1d))).num_features \
        if isinstance(model[0], nn.BatchNorm1d) else model[0].in_features
    x = torch.randn(300, n_in, generator=torch.Generator().manual_seed(n_in)) * 3
    assert rtl_mismatches(model, config, x, tmp_path_factory.mktemp("mlp"), runtime_cache) == (0, 0)
