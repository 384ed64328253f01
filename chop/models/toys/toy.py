"""MASE's ``toy`` model: the network MASE's quantisation test configs (``configs/tests/quantize``) name.

No ``from __future__ import annotations`` here: fx copies the ``forward`` annotations into the
graph, and string annotations make a traced GraphModule impossible to ``torch.save`` (``.mz``).
"""

import math
from typing import Any

from torch import Tensor, nn

from chop.models.registry import register_model

INPUT_SHAPE = (1, 2, 2)  # MASE's toy_tiny inputs


def _classes(info: Any) -> int:
    return getattr(info, "num_classes", 2) if info is not None else 2


@register_model("toy", input_shape=INPUT_SHAPE)
class ToyNet(nn.Module):
    """Linear(in→8), ReLU, Linear(8→8), ReLU, Linear(8→classes) in ``seq_blocks``; the input is flattened.

    ``in`` is the product of the input shape (4 for toy_tiny), ``classes`` the dataset's class count.
    """

    def __init__(self, info: Any) -> None:
        """``info`` is the dataset info (None: 2 classes); no default, so the registry always passes it."""
        super().__init__()
        n_in = math.prod(INPUT_SHAPE)
        self.seq_blocks = nn.Sequential(
            nn.Linear(n_in, 8), nn.ReLU(),
            nn.Linear(8, 8), nn.ReLU(),
            nn.Linear(8, _classes(info)),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.seq_blocks(x.flatten(start_dim=1))
