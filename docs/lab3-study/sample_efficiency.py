"""Lab 3 Q4: how fast TPE, brute force and random sampling find good points of one space.

Reads the ``log.json`` of each search (``ch search`` of ``jsc_toy_by_name.toml`` with
``sampler = tpe | brute_force | random`` and ``--seed 0 1 2``, projects ``lab3-{sampler}-{seed}``),
prints the best objective found after 10, 25, 50, 100 and 200 trials (mean over the seeds, and the
worst seed) and how closely accuracy and loss rank the points (lab 3 Q2), and draws the mean
best-so-far curve of each sampler.

    python docs/lab3-study/sample_efficiency.py OUT_DIR [docs/lab3-study/sample_efficiency.png]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from scipy.stats import spearmanr

from chop.search.plots import best_so_far, sample_efficiency_plot

SAMPLERS = ("tpe", "brute_force", "random")
SEEDS = (0, 1, 2)
CHECKPOINTS = (10, 25, 50, 100, 200)


def objectives(log: Path) -> list[float]:
    """The objective of every trial in order (a pruned trial repeats the best so far: it found nothing)."""
    entries = sorted(json.loads(log.read_text()).values(), key=lambda entry: entry["number"])
    return [entry["value"] if entry["value"] is not None else float("-inf") for entry in entries]


def metric_pairs(log: Path) -> tuple[list[float], list[float]]:
    """(accuracy, loss) of each distinct point a search measured (TPE revisits points; each counts once)."""
    seen: dict[str, tuple[float, float]] = {}
    for entry in json.loads(log.read_text()).values():
        metrics = entry["user_attrs_software_metrics"]
        if metrics:
            seen[json.dumps(entry["user_attrs_sampled_config"], sort_keys=True)] = (metrics["accuracy"], metrics["loss"])
    return [a for a, _ in seen.values()], [b for _, b in seen.values()]


def main(out: Path, plot: Path) -> None:
    curves: dict[str, list[list[float]]] = {}
    for sampler in SAMPLERS:
        for seed in SEEDS:
            log = out / f"lab3-{sampler}-{seed}" / "software" / "search_ckpts" / "log.json"
            curves.setdefault(sampler, []).append(best_so_far(objectives(log), "maximize"))
    print("| sampler | " + " | ".join(f"best after {n} (mean / worst seed)" for n in CHECKPOINTS) + " |")
    print("|---|" + "---|" * len(CHECKPOINTS))
    for sampler, runs in curves.items():
        cells = [f"{sum(run[n - 1] for run in runs) / len(runs):.4f} / {min(run[n - 1] for run in runs):.4f}"
                 for n in CHECKPOINTS]
        print(f"| {sampler} | " + " | ".join(cells) + " |")
    accuracy, loss = metric_pairs(out / "lab3-tpe-0" / "software" / "search_ckpts" / "log.json")
    rho = spearmanr(accuracy, loss).statistic
    print(f"Spearman rank correlation of accuracy and loss over the {len(accuracy)} distinct points of lab3-tpe-0: "
          f"{rho:.3f}")
    means = {sampler: [sum(values) / len(values) for values in zip(*runs)] for sampler, runs in curves.items()}
    sample_efficiency_plot(means, plot, metric="objective (mean of 3 seeds)")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).with_name("sample_efficiency.png"))
