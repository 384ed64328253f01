"""``jsc-conv-res``: the worked example of a user model that wants a different input shape.

The 16 JSC features are read as a one-channel sequence ``(N, 1, 16)``: a Conv1d stem, one residual
block of two Conv1d + BatchNorm layers, then a two-layer classifier; 3,299 trainable parameters.
``input_shape=(1, 16)`` in the decorator is all it takes: the engine reshapes the feature rows, so
no dataset code changes. (No postponed annotations: they would break ``torch.save`` of a traced
GraphModule, see ``jsc.py``.)
"""


from typing import Any

from torch import Tensor, nn

from chop.models.registry import register_model

CHANNELS = 8
HIDDEN = 21


class ResidualBlock(nn.Module):
    """Two 3-tap Conv1d + BatchNorm layers with an identity shortcut."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(channels, channels, kernel_size=3, padding=1)
        self.bn1 = nn.BatchNorm1d(channels)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv1d(channels, channels, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm1d(channels)

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + x)


@register_model("jsc-conv-res", input_shape=(1, 16))
class JSCConvRes(nn.Module):
    """Conv1d(1→8) + BN + ReLU, a residual block, Flatten, Linear(128→21), ReLU, Linear(21→5)."""

    def __init__(self, info: Any = None) -> None:
        super().__init__()
        length = getattr(info, "num_features", 16) if info is not None else 16
        classes = getattr(info, "num_classes", 5) if info is not None else 5
        self.stem = nn.Sequential(nn.Conv1d(1, CHANNELS, kernel_size=3, padding=1), nn.BatchNorm1d(CHANNELS), nn.ReLU())
        self.block = ResidualBlock(CHANNELS)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(CHANNELS * length, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, classes))

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.block(self.stem(x)))
