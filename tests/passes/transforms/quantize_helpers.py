"""Shared set-up for the quantisation pass tests: traced graphs with metadata, and a hand quantiser."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph import add_common_metadata_analysis_pass, init_metadata_analysis_pass

LINEAR_8_4 = {"name": "integer", "data_in_width": 8, "data_in_frac_width": 4, "weight_width": 8,
              "weight_frac_width": 4, "bias_width": 8, "bias_frac_width": 4}
SPEC_ARGS = {"by": "type", "default": {"config": {"name": None}}, "linear": {"config": dict(LINEAR_8_4)}}


def hand_quantize(t: Tensor, width: int, frac: int, signed: bool = True) -> Tensor:
    """The spec formula written out: clamp(round_half_even(t * 2^f), lo, hi) / 2^f."""
    lo, hi = (-(2 ** (width - 1)), 2 ** (width - 1) - 1) if signed else (0, 2**width - 1)
    return torch.clamp(torch.round(t * 2**frac), lo, hi) / 2**frac


def graph_of(model: nn.Module, x: Tensor) -> MaseGraph:
    graph = MaseGraph(model)
    graph, _ = init_metadata_analysis_pass(graph, None)
    graph, _ = add_common_metadata_analysis_pass(graph, {"dummy_in": {"x": x}, "add_value": False})
    return graph


class FunctionalNet(nn.Module):
    """Every quantisable function: add, sub, mul, matmul, bmm, relu (and a linear module)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.mix = nn.Parameter(torch.randn(4, 4))

    def forward(self, x: Tensor) -> Tensor:
        a = self.fc(x)
        b = torch.relu(a + x)
        c = b * x - a
        d = torch.matmul(c, self.mix)
        e = torch.bmm(d.unsqueeze(2), c.unsqueeze(1))
        return e.sum(dim=2) + d


class ConvNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(1, 3, 3, padding=1)
        self.bn = nn.BatchNorm1d(3)
        self.conv2 = nn.Conv2d(1, 2, 2)

    def forward(self, x: Tensor) -> Tensor:
        y = self.bn(self.conv1(x))
        return self.conv2(y.unsqueeze(1))
