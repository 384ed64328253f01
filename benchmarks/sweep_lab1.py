"""Lab-1 sweep: machop's grouped ensembles vs one-model-at-a-time Lightning runs (issue 6, item 6).

    python benchmarks/sweep_lab1.py                  # jsc-pythia, machop extrapolated from probes
    python benchmarks/sweep_lab1.py --rows 789444    # the full-size data shape (rows resampled)
    python benchmarks/sweep_lab1.py --full           # machop trains the whole sweep for real
    python benchmarks/sweep_lab1.py --full --rows 789444 --compile --parallel-only   # the 10-min target
    python benchmarks/sweep_lab1.py --full --rows 789444 --device cuda --jobs 1      # the GPU figure

Both sides run in this process with one intra-op thread (``configure_threads``). The baseline is a
plain Lightning module per run (Adam + cosine per epoch, DataLoader with shuffling, torchmetrics
accuracy logged per step like MASE), timed over a fixed number of steps per batch size and
extrapolated: per run = fixed cost + steps x time per step + epochs x one validation pass (on
machop's validation split, not on the training rows as MASE does). Without ``--full``, machop is
extrapolated the same way per group: warm-up (compilation) + steps x time per step + epochs x one
validation pass. Step times are the fastest of a few probe epochs, so other load on a shared machine
disturbs them as little as possible; both sides are measured the same way, on two clocks: wall time,
and CPU time of this process and its finished children (with one thread, what an idle core would
take; on a shared machine the wall clock also counts the other jobs).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from machine import cpu_name

from chop.dataset import load_dataset
from chop.dataset.splits import DatasetSplits
from chop.engine import GroupConfig, RunConfig, evaluate_models, train_ensemble
from chop.models import get_model
from chop.sweep import InProcessBackend, ProcessBackend, SweepStore, load_sweep, plan_groups, run_sweep
from chop.sweep.runner import estimated_cost, make_tasks
from chop.tools.runtime import configure_threads

LAB1 = Path(__file__).resolve().parents[1] / "configs" / "sweeps" / "lab1.toml"


def resized(data: DatasetSplits, rows: int) -> DatasetSplits:
    """The full-size shape: ``rows`` training rows (and validation/test in machop's proportions) drawn
    with replacement from the sample; timing depends on the shape, not on the values."""
    rng = np.random.default_rng(0)

    def pick(x: np.ndarray, y: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        index = rng.integers(0, len(x), n)
        return x[index], y[index]

    x_train, y_train = pick(data.x_train, data.y_train, rows)
    x_val, y_val = pick(data.x_val, data.y_val, rows // 9)
    x_test, y_test = pick(data.x_test, data.y_test, rows // 4)
    return DatasetSplits(data.info, x_train, y_train, x_val, y_val, x_test, y_test, {"resampled_rows": rows})




CLOCKS = ("wall", "cpu")


def now() -> dict[str, float]:
    """Wall time and CPU time of this process and its finished children (compilers).

    On a shared machine the wall clock also counts other jobs; with one thread, CPU time is what an
    idle core would take, so every figure is given on both clocks.
    """
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall": time.perf_counter(), "cpu": time.process_time() + children.ru_utime + children.ru_stime}


def since(start: dict[str, float]) -> dict[str, float]:
    end = now()
    return {clock: end[clock] - start[clock] for clock in CLOCKS}


# ---------------------------------------------------------------- machop
def machop_full(sweep, data: DatasetSplits, jobs: int) -> dict[str, float]:
    backend = ProcessBackend(jobs) if jobs > 1 else InProcessBackend(progress=False)
    with tempfile.TemporaryDirectory() as tmp, \
            SweepStore.create_or_open(tmp, sweep.definition(), sweep.swept_keys) as store:
        start = now()
        run_sweep(sweep, data, store, backend, print)
        return since(start)


def makespan(seconds: list[float], jobs: int) -> float:
    """Wall time of running the groups (in ProcessBackend's order) on ``jobs`` idle cores."""
    finish = [0.0] * jobs
    for value in seconds:
        finish[finish.index(min(finish))] += value
    return max(finish)


def subset(data: DatasetSplits, rows: int) -> DatasetSplits:
    """The first ``rows`` training rows and a small validation set: a probe sees the real batch shapes."""
    val = min(len(data.x_val), 2048)
    return DatasetSplits(data.info, data.x_train[:rows], data.y_train[:rows], data.x_val[:val], data.y_val[:val],
                         data.x_test[:val], data.y_test[:val], {})


def machop_extrapolated(sweep, data: DatasetSplits, probe: int) -> list[dict]:
    """Per group: 3 short epochs of ``probe`` steps on a slice of the data; the fastest later epoch gives the
    step time (least disturbed by other load), the first epoch's excess the warm-up (compilation)."""
    rows = []
    build = lambda: get_model("jsc-tiny", dataset_info=data.info)  # noqa: E731
    groups = plan_groups(sweep.runs())
    for group, task in zip(groups, make_tasks(sweep, groups, done=set())):
        steps = group.key.steps(len(data.x_train))
        rows_probed = min(probe * group.key.batch_size, len(data.x_train))
        probe_steps = dataclasses.replace(group.key, max_epochs=1, max_steps=-1).steps(rows_probed)
        settings = dataclasses.replace(task.group, max_epochs=3, max_steps=-1)
        marks = [now()]
        result = train_ensemble(build, subset(data, rows_probed), task.run_configs, settings, progress=False,
                                on_epoch_end=lambda record, state: marks.append(now()))
        start = now()
        evaluate_models(result.models, data.x_val, data.y_val)
        validation = since(start)
        row = {"group": group.index, "batch_size": group.key.batch_size, "max_epochs": group.key.max_epochs,
               "K": group.size, "steps_per_model": steps, "path": result.path}
        for clock in CLOCKS:
            epochs = [b[clock] - a[clock] for a, b in zip(marks, marks[1:])]
            per_step = min(epochs[1:]) / probe_steps
            warm_up = max(epochs[0] - per_step * probe_steps, 0.0)
            row[clock] = {"ms_per_step": per_step * 1e3, "warm_up_seconds": warm_up,
                          "validation_seconds": validation[clock],
                          "seconds": warm_up + steps * per_step + group.key.max_epochs * validation[clock]}
        row["order_cost"] = estimated_cost(task, len(data.x_train))
        rows.append(row)
        print(f"machop group {group.index}: batch {group.key.batch_size} K={group.size} {steps} steps/model; "
              + "; ".join(f"{c}: {row[c]['ms_per_step']:.3f} ms/step, warm-up {row[c]['warm_up_seconds']:.1f} s "
                          f"-> {row[c]['seconds']:.1f} s" for c in CLOCKS), flush=True)
    return rows


# ---------------------------------------------------------------- Lightning baseline
def lightning_costs(data: DatasetSplits, batch_size: int, steps: int, max_epochs: int, device: str) -> dict[str, dict]:
    """Fixed cost, time per training step and one full validation pass of a Lightning run at ``batch_size``.

    Three epochs of ``steps`` steps on a slice of the data; the fastest of epochs 2-3 gives the step time.
    """
    import lightning as L
    import torchmetrics
    from torch.utils.data import DataLoader, TensorDataset

    class Module(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.model = get_model("jsc-tiny", dataset_info=data.info)
            self.train_acc = torchmetrics.Accuracy(task="multiclass", num_classes=5)
            self.val_acc = torchmetrics.Accuracy(task="multiclass", num_classes=5)
            self.epochs: list[dict[str, float]] = []

        def on_train_epoch_start(self) -> None:
            self._start = now()

        def on_train_epoch_end(self) -> None:
            self.epochs.append(since(self._start))

        def training_step(self, batch, _):
            x, y = batch
            logits = self.model(x)
            loss = torch.nn.functional.cross_entropy(logits, y)
            self.train_acc(logits, y)
            self.log("train_acc_step", self.train_acc, prog_bar=True)
            self.log("train_loss_step", loss)
            return loss

        def validation_step(self, batch, _):
            x, y = batch
            logits = self.model(x)
            self.val_acc(logits, y)
            self.log("val_acc_epoch", self.val_acc)
            self.log("val_loss_epoch", torch.nn.functional.cross_entropy(logits, y))

        def configure_optimizers(self):
            optimizer = torch.optim.Adam(self.parameters(), lr=1e-5)
            schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max_epochs, eta_min=1e-6)
            return [optimizer], [schedule]

    rows = min(steps * batch_size, len(data.x_train))
    steps = math.ceil(rows / batch_size)  # the DataLoader keeps the last partial batch
    train = TensorDataset(torch.from_numpy(data.x_train[:rows]), torch.from_numpy(data.y_train[:rows]))
    val = TensorDataset(torch.from_numpy(data.x_val), torch.from_numpy(data.y_val))
    options = dict(accelerator="gpu" if device == "cuda" else "cpu", devices=1, logger=False, enable_checkpointing=False,
                   enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0)

    module = Module()
    start = now()
    L.Trainer(max_epochs=3, limit_val_batches=0, **options).fit(module, DataLoader(train, batch_size=batch_size,
                                                                                   shuffle=True))
    fit = since(start)
    start = now()
    L.Trainer(**options).validate(module, DataLoader(val, batch_size=batch_size), verbose=False)
    validation = since(start)
    costs = {}
    for clock in CLOCKS:
        per_step = min(epoch[clock] for epoch in module.epochs[1:]) / steps
        costs[clock] = {"fixed_seconds": max(fit[clock] - 3 * steps * per_step, 0.0), "ms_per_step": per_step * 1e3,
                        "validation_seconds": validation[clock]}
    return costs


def baseline(sweep, data: DatasetSplits, steps: int, device: str) -> tuple[dict[str, float], dict[int, dict]]:
    costs: dict[int, dict] = {}
    total = dict.fromkeys(CLOCKS, 0.0)
    for run in sweep.runs():
        a = run.config.args
        if a.batch_size not in costs:
            costs[a.batch_size] = lightning_costs(data, a.batch_size, steps, a.max_epochs, device)
            print(f"lightning batch {a.batch_size}: " + "; ".join(
                f"{c}: {costs[a.batch_size][c]['ms_per_step']:.2f} ms/step, validation "
                f"{costs[a.batch_size][c]['validation_seconds']:.1f} s" for c in CLOCKS), flush=True)
        per_epoch = math.ceil(len(data.x_train) / a.batch_size)
        for clock in CLOCKS:
            c = costs[a.batch_size][clock]
            total[clock] += c["fixed_seconds"] + a.max_epochs * (per_epoch * c["ms_per_step"] / 1e3
                                                                 + c["validation_seconds"])
    return total, costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="jsc-pythia", help="dataset name (default: the bundled sample)")
    parser.add_argument("--data-path", help="file for dataset jsc")
    parser.add_argument("--rows", type=int, help="training rows (789444 = the full-size MASE shape)")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--full", action="store_true", help="train the whole machop sweep instead of probing")
    parser.add_argument("--compile", action="store_true", help="torch.compile the engine's step")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes for the parallel figure (cores)")
    parser.add_argument("--parallel-only", action="store_true",
                        help="with --full: measure only the --jobs run, not the one-process run as well")
    parser.add_argument("--probe-steps", type=int, default=300, help="steps per probe epoch (machop)")
    parser.add_argument("--baseline-steps", type=int, default=100, help="steps per probe epoch (Lightning)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where both sides train")
    args = parser.parse_args()

    threads = configure_threads()
    data = load_dataset(args.dataset, args.data_path)
    if args.rows:
        data = resized(data, args.rows)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch sees no CUDA GPU")
    overrides = {"accelerator": "gpu" if args.device == "cuda" else "cpu", **({"compile": True} if args.compile else {})}
    sweep = load_sweep(LAB1, overrides)
    sweep = dataclasses.replace(sweep, repeats=args.repeats)
    print(f"{cpu_name()}, {torch.get_num_threads()} torch thread(s) (configure_threads -> {threads}); "
          f"{len(data.x_train)} training rows, {len(sweep.configurations)} configurations x {sweep.repeats} "
          f"repeats", flush=True)

    load = os.getloadavg()[0]
    parallel = {}
    if args.full:
        groups = []
        if args.parallel_only and args.jobs > 1:
            machop = parallel = machop_full(sweep, data, args.jobs)
        else:
            machop = machop_full(sweep, data, 1)
            if args.jobs > 1:
                parallel = machop_full(sweep, data, args.jobs)
    else:
        groups = machop_extrapolated(sweep, data, args.probe_steps)
        machop = {c: sum(g[c]["seconds"] for g in groups) for c in CLOCKS}
        ordered = sorted(groups, key=lambda g: g["order_cost"], reverse=True)
        parallel = {c: makespan([g[c]["seconds"] for g in ordered], args.jobs) for c in CLOCKS}
    lightning, costs = baseline(sweep, data, args.baseline_steps, args.device)
    result = {"cpu": cpu_name(), "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
              "threads": torch.get_num_threads(), "train_rows": len(data.x_train),
              "configurations": len(sweep.configurations), "repeats": sweep.repeats, "compile": args.compile,
              "load_average_at_start": load, "load_average_at_end": os.getloadavg()[0],
              "machop_measured": "full" if args.full else "extrapolated", "machop_seconds": machop if machop is not parallel else None,
              "jobs": args.jobs, "machop_parallel_seconds": parallel,
              "lightning_seconds_extrapolated": lightning,
              "ratio": {c: lightning[c] / machop[c] for c in CLOCKS}, "groups": groups, "lightning_costs": costs}
    for clock in CLOCKS if machop is not parallel else ():
        print(f"[{clock} clock] machop ({result['machop_measured']}): {machop[clock]:.1f} s = "
              f"{machop[clock] / 60:.1f} min; Lightning one model at a time (extrapolated): {lightning[clock]:.0f} s "
              f"= {lightning[clock] / 3600:.1f} h; ratio {result['ratio'][clock]:.0f}x")
    for clock, value in parallel.items():
        how = "measured" if args.full else "scheduled on idle cores from the group figures"
        print(f"[{clock} clock] machop with --jobs {args.jobs} ({how}): {value:.1f} s = {value / 60:.1f} min; "
              f"ratio {lightning[clock] / value:.0f}x")
    print(f"load average {load:.1f} at start, {result['load_average_at_end']:.1f} at end")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
