"""jsc-three-linear without the ReLU after its last linear, so every class keeps a live logit.

Lab 4's network ends in ``Linear(16, 5), ReLU``: an output whose pre-activation is negative on
every row has zero gradient and never recovers, so a training run can lose whole classes. This
twin (the same layer names, so the same search configs apply) is what ``docs/lab4-study.md``
compares it with: ``ch search docs/lab4-study/three_linear_logits.py:ThreeLinearLogits ...``.
"""

from torch import Tensor, nn


class ThreeLinearLogits(nn.Module):
    """BatchNorm1d(16), ReLU, then 16-16-16-5 linears with a ReLU between them, none at the end."""

    def __init__(self, info: object = None) -> None:
        super().__init__()
        self.seq_blocks = nn.Sequential(
            nn.BatchNorm1d(16), nn.ReLU(),
            nn.Linear(16, 16), nn.ReLU(),
            nn.Linear(16, 16), nn.ReLU(),
            nn.Linear(16, 5),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.seq_blocks(x)
