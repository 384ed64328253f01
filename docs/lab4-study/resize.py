"""Lab 4 Q1 and Q3: the lab's network resized with ``redefine_linear_transform_pass``, as the lab calls it.

Prints the resized modules (Q1: every hidden width doubled; Q3: 16 -> 32 -> 64 -> 5), and answers
the lab's aside (why not three linears in a row): without a non-linearity between them, three
linears are one linear, which this checks on the lab's first network.
``python docs/lab4-study/resize.py``
"""

import torch
from torch import nn

from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph import init_metadata_analysis_pass
from chop.passes.graph.transforms import redefine_linear_transform_pass


class ThreeLinearNoActivation(nn.Module):
    """The lab's first network: three linears back to back."""

    def __init__(self) -> None:
        super().__init__()
        self.seq_blocks = nn.Sequential(
            nn.BatchNorm1d(16), nn.ReLU(16),
            nn.Linear(16, 16), nn.Linear(16, 16), nn.Linear(16, 5), nn.ReLU(5),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.seq_blocks(x)


class ThreeLinear(nn.Module):
    """The lab's second network, a ReLU after each linear (machop's zoo ``jsc-three-linear``)."""

    def __init__(self) -> None:
        super().__init__()
        self.seq_blocks = nn.Sequential(
            nn.BatchNorm1d(16), nn.ReLU(16),
            nn.Linear(16, 16), nn.ReLU(16),
            nn.Linear(16, 16), nn.ReLU(16),
            nn.Linear(16, 5), nn.ReLU(5),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.seq_blocks(x)


DOUBLED = {
    "by": "name",
    "default": {"config": {"name": None}},
    "seq_blocks_2": {"config": {"name": "output_only", "channel_multiplier": 2}},
    "seq_blocks_4": {"config": {"name": "both", "channel_multiplier": 2}},
    "seq_blocks_6": {"config": {"name": "input_only", "channel_multiplier": 2}},
}
"""Q1, the lab's pass config: first linear's outputs, middle one's both sides, last one's inputs."""

WIDENING = {
    "by": "name",
    "default": {"config": {"name": None}},
    "seq_blocks_2": {"config": {"name": "output_only", "channel_multiplier": 2}},
    "seq_blocks_4": {"config": {"name": "both", "input_multiplier": 2, "output_multiplier": 4}},
    "seq_blocks_6": {"config": {"name": "input_only", "channel_multiplier": 4}},
}
"""Q3's 16 -> 32 -> 64 -> 5: the middle linear's two sides grow by different factors."""


def resized(model: nn.Module, config: dict) -> MaseGraph:
    """``model`` traced, and its linears resized by ``config`` (MASE's pass arguments)."""
    mg, _ = init_metadata_analysis_pass(MaseGraph(model=model), None)
    mg, _ = redefine_linear_transform_pass(mg, {"config": config})
    return mg


def collapsed(model: ThreeLinearNoActivation) -> float:
    """Largest difference between the three linears and the one linear their product is."""
    first, second, third = model.seq_blocks[2], model.seq_blocks[3], model.seq_blocks[4]
    weight = third.weight @ second.weight @ first.weight
    bias = third.weight @ (second.weight @ first.bias + second.bias) + third.bias
    x = torch.randn(1000, 16)
    with torch.no_grad():
        return (third(second(first(x))) - (x @ weight.T + bias)).abs().max().item()


def main() -> None:
    torch.manual_seed(0)
    print("three linears in a row equal one 16->5 linear: max difference",
          f"{collapsed(ThreeLinearNoActivation()):.1e}")
    mg = resized(ThreeLinear(), DOUBLED)
    print("Q1, doubled:")
    for name, module in mg.model.named_modules():
        if isinstance(module, (nn.Linear, nn.BatchNorm1d, nn.ReLU)):
            print(f"{name:>14}  {module}")
    print("output of a batch of 8:", tuple(mg.model(torch.randn(8, 16)).shape))
    widened = resized(ThreeLinear(), WIDENING)
    print("Q3:", " -> ".join(f"{m.in_features}x{m.out_features}"
                             for m in widened.model.modules() if isinstance(m, nn.Linear)))


if __name__ == "__main__":
    main()
