"""The JSC models of the MASE labs, layer for layer, under ``seq_blocks`` so fx node names match.

No ``from __future__ import annotations`` here: fx copies the ``forward`` annotations into the
graph, and string annotations make a traced GraphModule impossible to ``torch.save`` (``.mz``).
"""

from typing import Any

from torch import Tensor, nn

from chop.models.registry import register_model


def _features(info: Any) -> int:
    return getattr(info, "num_features", 16) if info is not None else 16


def _classes(info: Any) -> int:
    return getattr(info, "num_classes", 5) if info is not None else 5


@register_model("jsc-tiny")
class JSCTiny(nn.Module):
    """BatchNorm1d(16), ReLU, Linear(16→5), ReLU: 117 trainable parameters."""

    def __init__(self, info: Any = None) -> None:
        super().__init__()
        n_in, n_out = _features(info), _classes(info)
        self.seq_blocks = nn.Sequential(nn.BatchNorm1d(n_in), nn.ReLU(), nn.Linear(n_in, n_out), nn.ReLU())

    def forward(self, x: Tensor) -> Tensor:
        return self.seq_blocks(x)


@register_model("jsc-toy")
class JSCToy(nn.Module):
    """Three linear layers of width 8 with BatchNorm: 327 trainable parameters."""

    def __init__(self, info: Any = None) -> None:
        super().__init__()
        n_in, n_out = _features(info), _classes(info)
        self.seq_blocks = nn.Sequential(
            nn.BatchNorm1d(n_in), nn.ReLU(),
            nn.Linear(n_in, 8), nn.BatchNorm1d(8), nn.ReLU(),
            nn.Linear(8, 8), nn.BatchNorm1d(8), nn.ReLU(),
            nn.Linear(8, n_out), nn.BatchNorm1d(n_out), nn.ReLU(),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.seq_blocks(x)


@register_model("jsc-s")
class JSCS(nn.Module):
    """16-64-32-32-32-5 MLP with BatchNorm at both ends: 5615 trainable parameters."""

    def __init__(self, info: Any = None) -> None:
        super().__init__()
        n_in, n_out = _features(info), _classes(info)
        self.seq_blocks = nn.Sequential(
            nn.BatchNorm1d(n_in), nn.ReLU(),
            nn.Linear(n_in, 64), nn.BatchNorm1d(64), nn.ReLU(),
            nn.Linear(64, 32), nn.ReLU(),
            nn.Linear(32, 32), nn.ReLU(),
            nn.Linear(32, 32), nn.ReLU(),
            nn.Linear(32, n_out), nn.BatchNorm1d(n_out), nn.ReLU(),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.seq_blocks(x)


@register_model("jsc-three-linear")
class JSCThreeLinear(nn.Module):
    """MASE lab 4's ``JSC_Three_Linear_Layers`` with a ReLU after each linear: 16-16-16-5, 661 parameters.

    The lab's hardware example: BatchNorm1d first (a fixed-point affine op in hardware, since a
    ReLU follows it), then three linear layers, each followed by a ReLU.
    """

    def __init__(self, info: Any = None) -> None:
        super().__init__()
        n_in, n_out = _features(info), _classes(info)
        self.seq_blocks = nn.Sequential(
            nn.BatchNorm1d(n_in), nn.ReLU(),
            nn.Linear(n_in, 16), nn.ReLU(),
            nn.Linear(16, 16), nn.ReLU(),
            nn.Linear(16, n_out), nn.ReLU(),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.seq_blocks(x)
