"""Tables and plots of a sweep, computed from its store alone (so ``ch sweep report`` can redo them).

Per configuration: mean ± sample standard deviation and a 95 % confidence interval of the mean
(Student t with n-1 degrees of freedom) of ``val_acc_last_epoch``, ``train_acc_last_step`` and
``test_acc``. Plots use the standard deviation as error bars.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chop.sweep.config import GRID_KEYS
from chop.sweep.store import FINISHED, StoredRun, SweepStore
from chop.tools.atomic import atomic_save_png, atomic_write_text

METRICS = ("val_acc_last_epoch", "train_acc_last_step", "test_acc")
# The seed study's three plots, plus the other grid keys when a sweep varies them.
PLOT_KEYS = GRID_KEYS
LOG_AXIS = ("batch_size", "learning_rate")


@dataclass(frozen=True)
class Stat:
    """Mean, sample std and 95 % CI of one metric over the finished repeats of a configuration."""

    n: int
    mean: float
    std: float
    ci_low: float
    ci_high: float

    @staticmethod
    def of(values: Sequence[float]) -> Stat:
        n = len(values)
        if n == 0:
            return Stat(0, math.nan, math.nan, math.nan, math.nan)
        mean = math.fsum(values) / n
        if n == 1:
            return Stat(1, mean, math.nan, math.nan, math.nan)
        from scipy.stats import t

        std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
        half = float(t.ppf(0.975, n - 1)) * std / math.sqrt(n)
        return Stat(n, mean, std, mean - half, mean + half)

    def text(self) -> str:
        if self.n == 0:
            return "—"
        if self.n == 1:
            return f"{self.mean:.4f}"
        return f"{self.mean:.4f} ± {self.std:.4f} ({self.ci_low:.4f}–{self.ci_high:.4f})"

    def as_json(self) -> dict[str, float | int | None]:
        clean = lambda v: None if math.isnan(v) else v  # noqa: E731
        return {"n": self.n, "mean": clean(self.mean), "std": clean(self.std),
                "ci95_low": clean(self.ci_low), "ci95_high": clean(self.ci_high)}


@dataclass(frozen=True)
class ConfigSummary:
    config_id: int
    label: str
    values: dict[str, Any]
    finished: int
    planned: int
    stats: dict[str, Stat]
    curves: dict[str, list[Stat]]   # per-epoch val_acc_epoch / train_acc_step over repeats


def swept_value(run: StoredRun, key: str) -> Any:
    """The effective value of a swept key for a run (set by the run, or inherited from the base)."""
    return run.config.get("swept", {}).get(key, run.config.get(key))


DIVERGED = "diverged"


def status_of(run: StoredRun) -> str:
    """The stored status, or ``diverged`` for a finished run whose loss became NaN/inf (the runner
    stores its accuracies as NaN, which the store keeps as NULL)."""
    if run.status == FINISHED and (run.val_acc_last_epoch is None or math.isnan(run.val_acc_last_epoch)):
        return DIVERGED
    return run.status


def summarise(runs: Sequence[StoredRun], swept_keys: Sequence[str]) -> list[ConfigSummary]:
    """Statistics over each configuration's finished repeats; diverged repeats are left out of them."""
    by_config: dict[int, list[StoredRun]] = {}
    for run in runs:
        by_config.setdefault(run.config_id, []).append(run)
    summaries = []
    for config_id, members in sorted(by_config.items()):
        done = [run for run in members if status_of(run) == FINISHED]
        stats = {metric: Stat.of([getattr(run, metric) for run in done]) for metric in METRICS}
        epochs = min((len(run.history) for run in done), default=0)
        curves = {name: [Stat.of([getattr(run.history[e], name) for run in done]) for e in range(epochs)]
                  for name in ("val_acc_epoch", "train_acc_step")}
        summaries.append(ConfigSummary(config_id, members[0].label, {k: swept_value(members[0], k) for k in swept_keys},
                                       len(done), len(members), stats, curves))
    return summaries


def results_csv(runs: Sequence[StoredRun], swept_keys: Sequence[str]) -> str:
    """One row per run: configuration, every swept key, repeat, seed, status, the metrics, wall seconds."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["config_id", "label", *swept_keys, "repeat", "seed", "status", *METRICS, "wall_seconds"])
    for run in runs:
        metrics = [getattr(run, m) for m in METRICS] + [run.wall_seconds]
        writer.writerow([run.config_id, run.label, *(swept_value(run, k) for k in swept_keys), run.repeat,
                         run.seed, status_of(run), *("" if v is None else repr(float(v)) for v in metrics)])
    return out.getvalue()


def results_markdown(name: str, summaries: Sequence[ConfigSummary], swept_keys: Sequence[str],
                     plots: Sequence[str]) -> str:
    header = ["id", "label", *swept_keys, "runs", *METRICS]
    lines = [f"# Sweep `{name}`", "",
             "Per configuration: mean ± sample std (95 % CI of the mean, Student t) over the finished repeats.", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for s in summaries:
        cells = [str(s.config_id), s.label, *(str(s.values[k]) for k in swept_keys), f"{s.finished}/{s.planned}",
                 *(s.stats[m].text() for m in METRICS)]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"![{Path(p).stem}]({p})" for p in plots]
    return "\n".join(lines) + "\n"


def _lines_for(summaries: Sequence[ConfigSummary], key: str, swept_keys: Sequence[str]):
    """Configurations that differ only in ``key``, grouped into lines (at least two points each)."""
    others = [k for k in swept_keys if k != key]
    lines: dict[tuple, list[ConfigSummary]] = {}
    for s in summaries:
        if s.stats["val_acc_last_epoch"].n:
            lines.setdefault(tuple(s.values[k] for k in others), []).append(s)
    return [(dict(zip(others, fixed)), sorted(members, key=lambda s: _order(s.values[key])))
            for fixed, members in lines.items() if len({str(s.values[key]) for s in members}) >= 2]


def _order(value: Any) -> tuple:
    return (0, value, "") if isinstance(value, (int, float)) else (1, 0, str(value))


def plot_metric_vs(summaries: Sequence[ConfigSummary], key: str, swept_keys: Sequence[str], path: Path) -> bool:
    """val_acc_last_epoch against ``key`` with std error bars; False when no two configs differ in it alone."""
    lines = _lines_for(summaries, key, swept_keys)
    if not lines:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    numeric = all(isinstance(s.values[key], (int, float)) for _, members in lines for s in members)
    figure, axis = plt.subplots(figsize=(6, 4))
    categories = sorted({str(s.values[key]) for _, m in lines for s in m})
    for fixed, members in lines:
        xs = [s.values[key] if numeric else categories.index(str(s.values[key])) for s in members]
        means = [s.stats["val_acc_last_epoch"].mean for s in members]
        stds = [0.0 if math.isnan(s.stats["val_acc_last_epoch"].std) else s.stats["val_acc_last_epoch"].std
                for s in members]
        label = ", ".join(f"{k}={v}" for k, v in fixed.items()) or None
        axis.errorbar(xs, means, yerr=stds, marker="o", capsize=4, label=label)
    if numeric and key in LOG_AXIS and min(s.values[key] for _, m in lines for s in m) > 0:
        axis.set_xscale("log", base=2 if key == "batch_size" else 10)
    if not numeric:
        axis.set_xticks(range(len(categories)), categories)
    axis.set_xlabel(key)
    axis.set_ylabel("val_acc_last_epoch (mean ± std)")
    axis.set_title(f"validation accuracy vs {key}")
    axis.grid(alpha=0.3)
    if any(fixed for fixed, _ in lines):
        axis.legend(fontsize=7)
    atomic_save_png(figure, path)
    plt.close(figure)
    return True


def plot_curves(summaries: Sequence[ConfigSummary], path: Path) -> bool:
    """Per-epoch val_acc_epoch and train_acc_step of every configuration (mean; ± std shaded for ≤ 6)."""
    if not any(s.curves["val_acc_epoch"] for s in summaries):
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for axis, name in zip(axes, ("val_acc_epoch", "train_acc_step")):
        if len(summaries) > 10:
            axis.set_prop_cycle(color=plt.get_cmap("tab20").colors)
        for s in summaries:
            curve = s.curves[name]
            if not curve:
                continue
            epochs = list(range(1, len(curve) + 1))
            means = [c.mean for c in curve]
            stds = [0.0 if math.isnan(c.std) else c.std for c in curve]
            line, = axis.plot(epochs, means, label=f"{s.config_id}: {s.label}", linewidth=1)
            if len(summaries) <= 6:  # bands of more configurations hide each other's lines
                axis.fill_between(epochs, [m - d for m, d in zip(means, stds)],
                                  [m + d for m, d in zip(means, stds)], color=line.get_color(), alpha=0.15)
        if max(len(s.curves[name]) for s in summaries) > 20:
            axis.set_xscale("log")
        axis.set_xlabel("epoch")
        axis.set_title(name)
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("accuracy (mean over repeats)")
    axes[1].legend(fontsize=6, loc="center left", bbox_to_anchor=(1.02, 0.5))
    atomic_save_png(figure, path)
    plt.close(figure)
    return True


@dataclass(frozen=True)
class Report:
    directory: Path
    summaries: list[ConfigSummary]
    files: list[Path]

    def as_json(self) -> dict[str, Any]:
        return {"directory": str(self.directory), "files": [str(p) for p in self.files],
                "configurations": [{"id": s.config_id, "label": s.label, "values": s.values,
                                    "finished": s.finished, "planned": s.planned,
                                    **{m: s.stats[m].as_json() for m in METRICS}} for s in self.summaries]}


def write_report(store: SweepStore, directory: str | Path) -> Report:
    """Write results.csv, results.md and the plots into ``directory`` (named after the sweep) from the store."""
    directory = Path(directory)
    name = directory.resolve().name
    runs = store.runs()
    swept_keys = store.swept_keys()
    summaries = summarise(runs, swept_keys)
    files: list[Path] = []
    plots: list[str] = []
    for key in PLOT_KEYS:
        if key in swept_keys and plot_metric_vs(summaries, key, swept_keys, directory / f"val_acc_vs_{key}.png"):
            plots.append(f"val_acc_vs_{key}.png")
    if plot_curves(summaries, directory / "curves.png"):
        plots.append("curves.png")
    atomic_write_text(directory / "results.csv", results_csv(runs, swept_keys))
    atomic_write_text(directory / "results.md", results_markdown(name, summaries, swept_keys, plots))
    files += [directory / "results.csv", directory / "results.md"] + [directory / p for p in plots]
    return Report(directory, summaries, files)
