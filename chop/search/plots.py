"""Plots of a search: the Pareto front of accuracy against a cost, and sample efficiency (lab 3 Q4).

Both read trials as plain metric dicts in trial order (``software_metrics | hardware_metrics`` of
each completed trial, as ``log.json`` holds them; ``trial_metrics`` reads that file), so a study
in storage, a log from MASE's layout or a list built in a notebook plot the same way.

- ``pareto_plot``: every trial as a grey point at (cost, accuracy), the Pareto-optimal ones (no other
  trial at most as costly and at least as accurate, better in one) joined as a staircase. The
  front is computed here from the plotted pair, not taken from ``best.json``: a search with other
  objectives (or one objective) still has an accuracy-cost front worth seeing.
- ``sample_efficiency_plot``: the best objective found after each trial, one line per search
  (brute force against TPE, lab 3 Q4), so which strategy finds good points sooner reads at a glance.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from chop.errors import MachopError
from chop.tools.atomic import atomic_save_png

Metrics = Mapping[str, float]


def trial_metrics(log_path: str | Path) -> list[dict[str, float]]:
    """The metrics of every completed trial of a ``log.json``, in trial order."""
    path = Path(log_path)
    try:
        log = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise MachopError(f"{path}: cannot read a search log ({error})") from None
    entries = sorted(log.values(), key=lambda entry: entry["number"])
    return [{**entry.get("user_attrs_software_metrics", {}), **entry.get("user_attrs_hardware_metrics", {})}
            for entry in entries if entry.get("state") == "COMPLETE"]


def pareto_front(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The (cost, accuracy) points no other point dominates (cost minimised, accuracy maximised), by cost."""
    front: list[tuple[float, float]] = []
    for cost, accuracy in sorted(set(points), key=lambda p: (p[0], -p[1])):
        if not front or accuracy > front[-1][1]:
            front.append((cost, accuracy))
    return front


def _pairs(trials: Sequence[Metrics], cost: str, accuracy: str) -> list[tuple[float, float]]:
    for metric in (cost, accuracy):
        if not any(metric in trial for trial in trials):
            known = sorted({name for trial in trials for name in trial})
            raise MachopError(f"no trial measured '{metric}'; measured: {', '.join(known) or 'nothing'}")
    return [(float(t[cost]), float(t[accuracy])) for t in trials if cost in t and accuracy in t]


def pareto_plot(trials: Sequence[Metrics], cost: str, path: str | Path, accuracy: str = "accuracy",
                title: str | None = None) -> list[tuple[float, float]]:
    """Write the accuracy-against-``cost`` plot to ``path`` (PNG); returns the front it drew."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = _pairs(trials, cost, accuracy)
    front = pareto_front(points)
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.scatter([p[0] for p in points], [p[1] for p in points], s=12, color="0.7", label=f"trials ({len(points)})")
    axis.step([p[0] for p in front], [p[1] for p in front], where="post", color="C0", marker="o", markersize=4,
              label=f"Pareto front ({len(front)})")
    axis.set_xlabel(cost)
    axis.set_ylabel(accuracy)
    axis.set_title(title or f"{accuracy} against {cost}")
    axis.grid(alpha=0.3)
    axis.legend(loc="lower right")
    atomic_save_png(figure, path)
    plt.close(figure)
    return front


def best_so_far(values: Sequence[float], direction: str) -> list[float]:
    """The best value after each trial (``direction``: maximize or minimize)."""
    if direction not in ("maximize", "minimize"):
        raise MachopError(f"direction {direction!r}: expected maximize or minimize")
    pick = max if direction == "maximize" else min
    best: list[float] = []
    for value in values:
        best.append(value if not best else pick(best[-1], value))
    return best


def sample_efficiency_plot(searches: Mapping[str, Sequence[float]], path: str | Path, metric: str = "accuracy",
                           direction: str = "maximize") -> dict[str, list[float]]:
    """Write the best-so-far curve of each search (label -> values in trial order); returns the curves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = {label: best_so_far(values, direction) for label, values in searches.items()}
    figure, axis = plt.subplots(figsize=(6, 4))
    for label, curve in curves.items():
        axis.plot(range(1, len(curve) + 1), curve, drawstyle="steps-post", label=label)
    axis.set_xlabel("trials")
    axis.set_ylabel(f"best {metric} so far")
    axis.set_title(f"Sample efficiency: best {metric} after each trial")
    axis.grid(alpha=0.3)
    axis.legend(loc="lower right" if direction == "maximize" else "upper right")
    atomic_save_png(figure, path)
    plt.close(figure)
    return curves
