"""Lab 4 Q2 and Q3: how the searched widths of jsc-three-linear rank, over several seeds.

Reads the ``log.json`` of each search (``ch search`` of ``uniform_multiplier.toml`` and
``per_layer_multiplier.toml`` for lab 4's network and for ``three_linear_logits.py`` (the same
without its last ReLU), ``--seed 0`` to ``4``, projects ``{space}-{network}-{seed}``), prints each
architecture's parameters and validation accuracy (mean, worst and best seed) and how often its
search picked it, and draws accuracy against parameters.

    python docs/lab4-study/architectures.py OUT_DIR [docs/lab4-study/architectures.png]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from statistics import mean

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from chop.tools.atomic import atomic_save_png  # noqa: E402

SPACES = ("uniform", "per_layer")
NETWORKS = {"relu": "lab 4's network (ReLU on the outputs)", "logits": "without the last ReLU"}
SEEDS = (0, 1, 2, 3, 4)
HIDDEN = ("seq_blocks_2", "seq_blocks_4")

Architecture = tuple[int, ...]


def parameters(widths: Architecture) -> int:
    """Trainable parameters of 16 -> widths -> 5 with the input BatchNorm (32 parameters)."""
    sizes = (16, *widths, 5)
    return 32 + sum(n_in * n_out + n_out for n_in, n_out in zip(sizes, sizes[1:]))


def accuracies(log: Path) -> dict[Architecture, float]:
    """Validation accuracy of each architecture a search trained, keyed by its hidden widths."""
    found = {}
    for entry in json.loads(log.read_text()).values():
        multipliers = entry["user_attrs_sampled_config"]["channel_multiplier"]
        found[tuple(16 * multipliers[name] for name in HIDDEN)] = entry["user_attrs_software_metrics"]["accuracy"]
    return found


def table(out: Path, space: str, network: str) -> dict[Architecture, list[float]]:
    """Each architecture's accuracy under every seed, and a printed Markdown table of them."""
    runs = [accuracies(out / f"{space}-{network}-{seed}" / "software" / "search_ckpts" / "log.json") for seed in SEEDS]
    by_architecture = {arch: [run[arch] for run in runs] for arch in sorted(runs[0], key=parameters)}
    picked = [max(run, key=run.get) for run in runs]
    print(f"\n{space}, {NETWORKS[network]}:\n")
    print("| widths | parameters | accuracy, mean | worst seed | best seed | best of its search |")
    print("|---|---|---|---|---|---|")
    for arch, values in by_architecture.items():
        name = "-".join(str(width) for width in (16, *arch, 5))
        print(f"| {name} | {parameters(arch):,} | {mean(values):.4f} | {min(values):.4f} | {max(values):.4f} "
              f"| {picked.count(arch)} of {len(SEEDS)} |")
    return by_architecture


def main(out: Path, plot: Path) -> None:
    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    for axis, network in zip(axes, NETWORKS):
        by_architecture = table(out, "per_layer", network)
        table(out, "uniform", network)
        x = [parameters(arch) for arch in by_architecture]
        y = [mean(values) for values in by_architecture.values()]
        low = [m - min(values) for m, values in zip(y, by_architecture.values())]
        high = [max(values) - m for m, values in zip(y, by_architecture.values())]
        axis.errorbar(x, y, yerr=[low, high], fmt="o", capsize=3)
        for arch, px, py in zip(by_architecture, x, y):
            axis.annotate("-".join(map(str, arch)), (px, py), fontsize=7, xytext=(3, 3), textcoords="offset points")
        axis.set_xscale("log")
        axis.set_xlabel("trainable parameters")
        axis.set_title(NETWORKS[network])
        axis.grid(True, alpha=0.3)
    for axis in axes:
        axis.set_ylabel("validation accuracy")
    figure.suptitle(f"jsc-three-linear, per-layer widths, 20 epochs each (jsc-pythia): mean and range of "
                    f"{len(SEEDS)} seeds")
    atomic_save_png(figure, plot)
    print(f"\nplot: {plot}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2] if len(sys.argv) > 2 else "docs/lab4-study/architectures.png"))
