"""Small models with the ops the metadata and cost passes must handle, and a ready-made graph factory."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph import (
    add_common_metadata_analysis_pass,
    add_software_metadata_analysis_pass,
    init_metadata_analysis_pass,
)


class ConvNet(nn.Module):
    """Conv1d(1→4, k=3, pad=1) → BN → ReLU → flatten → Linear(64→5): input (N, 1, 16)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 4, kernel_size=3, padding=1)
        self.bn = nn.BatchNorm1d(4)
        self.relu = nn.ReLU()
        self.fc = nn.Linear(64, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.relu(self.bn(self.conv(x))), 1))


class FunctionalNet(nn.Module):
    """Functional ops: torch.cat, F.relu, x.view, x.size, + and a linear layer."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(32, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.cat([x, x * 2], dim=1)
        y = F.relu(y)
        y = y.view(x.size(0), -1)
        return self.fc(y) + 1.0


def _graph(model: nn.Module, x: torch.Tensor, add_value: bool = True) -> MaseGraph:
    mg = MaseGraph(model)
    mg, _ = init_metadata_analysis_pass(mg, None)
    mg, _ = add_common_metadata_analysis_pass(mg, {"dummy_in": {"x": x}, "add_value": add_value})
    mg, _ = add_software_metadata_analysis_pass(mg, None)
    return mg


@pytest.fixture
def make_graph() -> Callable[..., MaseGraph]:
    """``make_graph(model, x)``: traced, with init + common + software metadata."""
    return _graph


@pytest.fixture
def seeded() -> None:
    torch.manual_seed(0)


@pytest.fixture
def small_model() -> Callable[[str], tuple[nn.Module, torch.Tensor]]:
    """``small_model(kind)`` → (model, example batch) for kind ``conv``, ``functional`` or a registered name."""

    def build(kind: str) -> tuple[nn.Module, torch.Tensor]:
        if kind == "conv":
            return ConvNet(), torch.randn(6, 1, 16)
        if kind == "functional":
            return FunctionalNet(), torch.randn(6, 16)
        from chop.models import get_model

        return get_model(kind), torch.randn(6, 16)

    return build
