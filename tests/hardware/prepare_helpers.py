"""Shared set-up for the preparation tests: quantised graphs of seeded models, and their test rows."""

from __future__ import annotations

from functools import cache
from typing import Any

import torch
from torch import Tensor, nn

from chop.dataset import load_dataset
from chop.ir.graph.mase_graph import MaseGraph
from chop.models import get_model
from chop.models.input_shape import input_shape_of
from chop.passes.graph import add_common_metadata_analysis_pass, init_metadata_analysis_pass
from chop.passes.graph.transforms import quantize_transform_pass


def fixed_config(data: tuple[int, int] = (8, 4), weight: tuple[int, int] = (8, 4), bias: tuple[int, int] = (8, 4),
                 **extra: Any) -> dict[str, Any]:
    """An ``integer`` node config: data_in, weight and bias as (width, frac)."""
    return {"name": "integer", "data_in_width": data[0], "data_in_frac_width": data[1], "weight_width": weight[0],
            "weight_frac_width": weight[1], "bias_width": bias[0], "bias_frac_width": bias[1], **extra}


INTEGER_8_4 = fixed_config()
WEIGHTS_4_BIT = fixed_config(weight=(4, 3))


def calibrated(name: str, seed: int) -> nn.Module:
    """Zoo model ``name``, seeded: He-initialised linears and convs, random gamma/beta, running statistics
    measured on 2,000 training rows (reshaped to the model's input shape).

    He initialisation and measured statistics keep the activations in range layer after layer (as
    training would), so the fixed-point formats neither saturate everywhere nor round everything to
    zero; it costs one forward pass.
    """
    torch.manual_seed(seed)
    model = get_model(name)
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv1d)):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu", generator=generator)
        if isinstance(module, nn.BatchNorm1d):
            module.weight.data.copy_(torch.randn(module.num_features, generator=generator) * 0.3 + 1.0)
            module.bias.data.copy_(torch.randn(module.num_features, generator=generator) * 0.3)
            module.reset_running_stats()
            module.momentum = None  # a cumulative average over the calibration batch
    data = load_dataset("jsc-pythia")
    with torch.no_grad():
        model.train()(torch.from_numpy(data.x_train[:2000]).reshape(-1, *input_shape_of(model)))
    for module in model.modules():
        if isinstance(module, nn.BatchNorm1d):
            module.momentum = 0.1
    return model.eval()


def graph_of(model: nn.Module, example: Tensor | None = None) -> MaseGraph:
    graph = MaseGraph(model)
    graph, _ = init_metadata_analysis_pass(graph, None)
    dummy = example if example is not None else torch.randn(2, 16)
    placeholder = next(node.name for node in graph.nodes if node.op == "placeholder")
    graph, _ = add_common_metadata_analysis_pass(graph, {"dummy_in": {placeholder: dummy}, "add_value": False})
    return graph


def quantised(model: nn.Module, config: dict[str, Any], example: Tensor | None = None) -> MaseGraph:
    """``model`` traced, with metadata, every quantisable node quantised with ``config``."""
    graph, _ = quantize_transform_pass(graph_of(model, example), {"by": "type", "default": {"config": config}})
    return graph


@cache
def _test_split() -> tuple[Tensor, Tensor]:
    data = load_dataset("jsc-pythia")
    return torch.from_numpy(data.x_test), torch.from_numpy(data.y_test)


def jsc_test_rows(count: int) -> tuple[Tensor, Tensor]:
    """The first ``count`` rows of the bundled jsc-pythia test split and their labels."""
    x, y = _test_split()
    return x[:count], y[:count]
