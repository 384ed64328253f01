"""hls4ml-style numerical profile: one box per tensor of |value| on a log2 axis, weights and activations.

The boxes show where the magnitudes of each layer's numbers sit, which is what a designer reads
to choose integer and fraction widths: the box's right edge against a format's largest value, its
left whisker against the smallest step.
"""

from __future__ import annotations

from pathlib import Path

import torch

from chop.errors import PassError
from chop.tools.atomic import atomic_save_png


def _magnitudes(values: torch.Tensor, max_values: int) -> list[float]:
    """Non-zero |values| (log scale), evenly subsampled to at most ``max_values`` for drawing."""
    flat = values.detach().flatten().abs().double()
    flat = flat[flat > 0]
    if flat.numel() > max_values:
        flat = flat[torch.linspace(0, flat.numel() - 1, max_values).long()]
    return flat.tolist()


def plot_profile(weights: dict[str, torch.Tensor], activations: dict[str, torch.Tensor], path: str | Path,
                 max_values: int = 200_000) -> Path:
    """Write a PNG with a weights panel and an activations panel (labels ``node.operand``)."""
    if not weights and not activations:
        raise PassError(f"nothing to plot into {path}: no weight or activation was profiled")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(title, data) for title, data in (("Weights", weights), ("Activations", activations)) if data]
    height = max(3.0, 0.45 * max(len(d) for _, d in panels) + 1.5)
    figure, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), height), squeeze=False)
    for axis, (title, data) in zip(axes[0], panels):
        labels = list(data)
        series = [_magnitudes(data[label], max_values) or [float("nan")] for label in labels]
        axis.boxplot(series, orientation="horizontal", whis=(0, 100), widths=0.6, showfliers=False)
        axis.set_yticks(range(1, len(labels) + 1), labels)
        axis.invert_yaxis()
        axis.set_xscale("log", base=2)
        axis.set_xlabel("|value| (log2 scale)")
        axis.set_title(title)
        axis.grid(axis="x", which="major", alpha=0.3)
    figure.tight_layout()
    path = Path(path)
    atomic_save_png(figure, path, tight=False)
    plt.close(figure)
    return path
