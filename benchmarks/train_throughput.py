"""Training throughput: a MASE-style Lightning loop vs machop's engine, in one process, same data.

Cases (issue 3, item 5), jsc-tiny, Adam + cosine, full-size data (789,444 rows x 16, random):
  (a) baseline: LightningModule + DataLoader(TensorDataset, shuffle) with MASE's settings
      (Adam + CosineAnnealingLR, per-step torchmetrics accuracy logged, ModelCheckpoint, logger);
  (b) machop K=1, eager and compiled (ranges of steps in one compiled while_loop);
  (c) machop K=10 and K=100, shared and per-model batch order.
Every case times three blocks of a fixed number of steps after a warm-up (compilation excluded),
keeps the fastest block and extrapolates it to one epoch; that is stated in the table. machop's steps are driven the way ``train_ensemble`` drives
them with its progress bar on: ranges of ~1/20 epoch, one host sync after each. machop runs with
``--threads`` intra-op threads (default 1); the baseline is timed at each ``--baseline-threads``
count (default 1 and 2) and the fastest is the reference.

    python benchmarks/train_throughput.py [--batch-sizes 256 16] [--ks 10 100] [--write benchmarks/RESULTS.md]
    python benchmarks/train_throughput.py --device cuda --write benchmarks/RESULTS.md   # GPU: its own section

With ``--device cuda`` both sides run on the GPU: machop's data lives there, and the baseline is
Lightning with ``accelerator="gpu"`` fed by its DataLoader from host memory, as MASE runs it.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from machine import cpu_name

ROWS, FEATURES, CLASSES = 789_444, 16, 5
# each case is timed as REPEATS consecutive blocks of a fixed number of steps, and the fastest block
# counts: on a shared machine a neighbour's burst then spoils one block, not the figure
REPEATS = 3


def section_markers(device: torch.device) -> tuple[str, str]:
    """RESULTS.md markers of this benchmark's table: one section per device kind."""
    name = "train_throughput" if device.type == "cpu" else f"train_throughput:{device.type}"
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU only"


@dataclass
class Timing:
    case: str
    batch: int
    k: int
    seconds_per_step: float
    steps_timed: int

    @property
    def steps_per_epoch(self) -> int:
        return -(-ROWS // self.batch)

    @property
    def epoch_seconds(self) -> float:
        return self.seconds_per_step * self.steps_per_epoch

    @property
    def model_samples_per_second(self) -> float:
        return self.k * self.batch / self.seconds_per_step


def make_data(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(ROWS, FEATURES, generator=generator)
    y = torch.randint(0, CLASSES, (ROWS,), generator=generator)
    return x, y


def time_lightning(x: torch.Tensor, y: torch.Tensor, batch: int, steps: int, warmup: int, workdir: Path,
                   threads: int, device: torch.device) -> Timing:
    """(a) The usual way, as MASE's ``ch train`` does it (progress bar off, which only helps it).

    Lightning sets torch's thread count to cores/processes unless ``OMP_NUM_THREADS`` is set, so the
    variable is set to ``threads`` to give the baseline a chosen thread count.
    """
    os.environ["OMP_NUM_THREADS"] = str(threads)
    torch.set_num_threads(threads)
    import lightning as L
    import torch.nn.functional as F
    import torchmetrics
    from lightning.pytorch.callbacks import Callback, ModelCheckpoint
    from lightning.pytorch.loggers import TensorBoardLogger
    from torch.utils.data import DataLoader, TensorDataset

    from chop.models import get_model

    class MaseStyle(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.model = get_model("jsc-tiny")
            self.acc = torchmetrics.classification.MulticlassAccuracy(num_classes=CLASSES, average="micro")

        def forward(self, inputs: torch.Tensor) -> torch.Tensor:
            return self.model(inputs)

        def training_step(self, batch_data, batch_idx):
            inputs, labels = batch_data
            logits = self(inputs)
            loss = F.cross_entropy(logits, labels)
            self.log("train_acc_step", self.acc(logits, labels), prog_bar=True)
            self.log("train_loss_step", loss)
            return loss

        def configure_optimizers(self):
            optimizer = torch.optim.Adam(self.parameters(), lr=1e-3)
            scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=20, eta_min=1e-6)
            return {"optimizer": optimizer, "lr_scheduler": scheduler}

    marks: list[float] = []  # at the start of each timed block and at the end of the last

    class Clock(Callback):
        def on_train_batch_start(self, trainer, module, batch_data, batch_idx):
            if trainer.global_step == warmup:
                marks.append(time.perf_counter())

        def on_train_batch_end(self, trainer, module, outputs, batch_data, batch_idx):
            done = trainer.global_step - warmup
            if done > 0 and done % steps == 0:
                marks.append(time.perf_counter())

    loader = DataLoader(TensorDataset(x, y), batch_size=batch, shuffle=True)
    trainer = L.Trainer(
        max_steps=warmup + steps * REPEATS, accelerator="gpu" if device.type == "cuda" else "cpu", devices=1, limit_val_batches=0, enable_progress_bar=False,
        enable_model_summary=False, log_every_n_steps=50, logger=TensorBoardLogger(str(workdir), name="baseline"),
        callbacks=[ModelCheckpoint(dirpath=str(workdir / "ckpts"), monitor="train_loss_step", save_last=True), Clock()],
    )
    trainer.fit(MaseStyle(), loader)
    assert torch.get_num_threads() == threads
    fastest = min(b - a for a, b in zip(marks, marks[1:]))
    return Timing(f"(a) Lightning + DataLoader (MASE style), {threads} thread(s)", batch, 1, fastest / steps, steps)


def time_machop(x: torch.Tensor, y: torch.Tensor, batch: int, k: int, shared: bool, compiled: bool,
                steps: int, warmup: int, device: torch.device = torch.device("cpu")) -> Timing:
    """(b)/(c) machop's engine hot loop: the same group object ``train_ensemble`` drives."""
    from chop.engine import GroupConfig, RunConfig
    from chop.engine.batches import batch_bounds, epoch_order
    from chop.engine.trainer import _sync_every, make_group
    from chop.models import get_model

    runs = [RunConfig(seed=i, learning_rate=1e-3) for i in range(k)]
    models = []
    for run in runs:
        torch.manual_seed(run.seed)
        models.append(get_model("jsc-tiny"))
    group = make_group(models, runs, GroupConfig(batch, 20, compile=compiled), device, FEATURES, None, "auto")
    order = epoch_order(ROWS, [run.seed for run in runs], shared, 0, 0, device)
    bounds = batch_bounds(ROWS, batch)
    group.begin_epoch([1e-3] * k, 1, bounds, order)
    group.train_range(x, y, 0, warmup)
    every = _sync_every(len(bounds))  # as train_ensemble calls it with its progress bar on
    blocks = []
    for block in range(REPEATS):
        begin = warmup + block * steps
        start = time.perf_counter()
        for first in range(begin, begin + steps, every):
            _, acc = group.train_range(x, y, first, min(first + every, begin + steps))
            float(acc.mean())  # the progress bar's host sync
        blocks.append(time.perf_counter() - start)
    elapsed = min(blocks)
    name = f"machop K={k} {'shared' if shared else 'per-model'} order, {'compiled' if compiled else 'eager'}"
    if k == 1:
        name = f"(b) machop K=1, {'compiled' if compiled else 'eager'}"
    else:
        name = "(c) " + name
    return Timing(name, batch, k, elapsed / steps, steps)


def full_epoch(batch: int, compiled: bool, device: torch.device) -> float:
    """One real (not extrapolated) epoch of ``train_ensemble`` K=1, validation on 10 % excluded."""
    import numpy as np

    from chop.dataset.splits import DatasetInfo, DatasetSplits
    from chop.engine import GroupConfig, RunConfig, train_ensemble
    from chop.models import get_model

    x, y = make_data(1)
    small = np.zeros((2, FEATURES), np.float32), np.zeros(2, np.int64)
    data = DatasetSplits(DatasetInfo("bench"), x.numpy(), y.numpy(), *small, *small)
    result = train_ensemble(lambda: get_model("jsc-tiny"), data, [RunConfig(0, 1e-3)],
                            GroupConfig(batch, 2, compile=compiled, device=str(device)), progress=False)
    return result.history[-1].seconds  # the second epoch: compilation happened in the first




def render(timings: list[Timing], threads: int, notes: list[str], device: torch.device) -> str:
    start, end = section_markers(device)
    title = "## Training throughput (`benchmarks/train_throughput.py`)"
    lines = [
        start,
        title if device.type == "cpu" else f"{title}, {device.type.upper()}",
        "",
        f"jsc-tiny, Adam + cosine, {ROWS:,} random rows x {FEATURES}; intra-op threads: {threads} for machop's cases, "
        "the baseline at each listed thread count (the fastest one is the reference); "
        f"machine: {cpu_name()}, {os.cpu_count()} cores (shared with other jobs: load average "
        f"{os.getloadavg()[0]:.1f} at the end), torch {torch.__version__}, {device_name(device)}. Each case timed {REPEATS} blocks of the listed number of steps after a "
        "warm-up (compilation excluded); the fastest block is extrapolated to one epoch.",
        "",
        "| case | batch | steps timed | ms/step | s/epoch (extrapolated) | model-samples/s | vs (a) |",
        "|---|---|---|---|---|---|---|",
    ]
    baselines: dict[int, Timing] = {}
    for t in timings:  # the fastest baseline thread setting is the reference
        if t.case.startswith("(a)") and (t.batch not in baselines or t.seconds_per_step < baselines[t.batch].seconds_per_step):
            baselines[t.batch] = t
    for t in timings:
        base = baselines.get(t.batch)
        ratio = f"{base.seconds_per_step * t.k / t.seconds_per_step:,.1f}x" if base else "-"
        lines.append(f"| {t.case} | {t.batch} | {t.steps_timed} | {t.seconds_per_step * 1e3:.3f} | "
                     f"{t.epoch_seconds:,.2f} | {t.model_samples_per_second:,.0f} | {ratio} |")
    lines += ["", "\"vs (a)\" is model-samples/s over the fastest baseline's at the same batch size.", ""]
    lines += [f"- {note}" for note in notes]
    lines.append(end)
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str, device: torch.device) -> None:
    start, end = section_markers(device)
    text = path.read_text() if path.exists() else ""
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end) + "\n?", re.S)
    text = pattern.sub(section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    from chop.tools.atomic import atomic_write_text

    atomic_write_text(path, text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[256, 16])
    parser.add_argument("--ks", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads for machop's cases")
    parser.add_argument("--baseline-threads", type=int, nargs="+", default=[1, 2],
                        help="thread counts tried for the baseline; the fastest is the reference")
    parser.add_argument("--steps", type=int, default=1000, help="machop steps timed per case")
    parser.add_argument("--baseline-steps", type=int, default=150)
    parser.add_argument("--no-compile", action="store_true", help="eager cases only (no C++ compiler)")
    parser.add_argument("--write", type=Path, help="replace this benchmark's section in a RESULTS.md")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (both sides run there)")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch sees no CUDA GPU")
    torch.set_num_threads(args.threads)
    import tempfile

    x, y = make_data()
    x_dev, y_dev = x.to(device), y.to(device)  # machop keeps the data resident on the device
    timings: list[Timing] = []
    compiled = not args.no_compile
    with tempfile.TemporaryDirectory() as workdir:
        for batch in args.batch_sizes:
            for threads in args.baseline_threads:
                timings.append(time_lightning(x, y, batch, args.baseline_steps, 20, Path(workdir), threads, device))
                print(timings[-1], flush=True)
            torch.set_num_threads(args.threads)
            timings.append(time_machop(x_dev, y_dev, batch, 1, True, False, args.steps, 10, device))
            print(timings[-1], flush=True)
            if compiled:
                timings.append(time_machop(x_dev, y_dev, batch, 1, True, True, args.steps, 10, device))
                print(timings[-1], flush=True)
            for k in args.ks:
                for shared in (True, False):
                    timings.append(time_machop(x_dev, y_dev, batch, k, shared, compiled, args.steps, 10, device))
                    print(timings[-1], flush=True)
    notes = []
    for batch in args.batch_sizes:
        k1 = [t for t in timings if t.batch == batch and t.k == 1 and t.case.startswith("(b)")]
        best_k1 = min(k1, key=lambda t: t.seconds_per_step)
        for t in timings:
            if t.batch == batch and t.k == 10 and "shared" in t.case:
                notes.append(f"batch {batch}: K=10 shared order costs {t.seconds_per_step / best_k1.seconds_per_step:.2f}x "
                             f"the time of one K=1 run ({best_k1.case}); target <= 2x.")
    for batch in args.batch_sizes:
        base = min((t for t in timings if t.batch == batch and t.case.startswith("(a)")), key=lambda t: t.seconds_per_step)
        best = min((t for t in timings if t.batch == batch and t.k == 1 and t.case.startswith("(b)")),
                   key=lambda t: t.seconds_per_step)
        speedup = base.seconds_per_step / best.seconds_per_step
        verdict = "met" if speedup >= 100 else f"missed by {100 / speedup:.1f}x"
        notes.append(f"batch {batch}: fastest K=1 ({best.case}) is {speedup:.1f}x the fastest baseline; "
                     f"target >= 100x at batch 256: {verdict if batch == 256 else 'n/a'}.")
    if device.type == "cpu":
        notes += cpu_notes()
    if compiled and 256 in args.batch_sizes:
        seconds = full_epoch(256, True, device)
        notes.append(f"A real (not extrapolated) epoch of `train_ensemble` K=1 compiled at batch 256: {seconds:.2f} s "
                     "including its validation pass.")
    section = render(timings, args.threads, notes, device)
    print(section)
    if args.write:
        write_section(args.write, section, device)


def cpu_notes() -> list[str]:
    """What the CPU figures mean (measured on the 2-core development machine)."""
    return [
        "Where the time goes: the compiled path runs each range of steps (~1/20 epoch, as with the "
        "progress bar on) in one compiled `while_loop` whose body is the whole step fused into one C++ "
        "kernel; per step there remains inductor's Python wrapper around the loop body (~0.04-0.06 ms: "
        "buffer allocations, size checks, the loop condition) plus the arithmetic. A K=1 step is mostly "
        "that fixed cost; a K=10 step at batch 256 is mostly arithmetic (forward and hand-written backward "
        "of 10 x 256 rows, ~0.5 M multiply-adds), which alone costs more than two K=1 steps, so the "
        "'K=10 <= 2x K=1' ratio is missed because K=1 became cheap, not because K=10 got slower. "
        "Per-model order gathers K*B rows per step instead of reading one contiguous block.",
        "Noise: the box has 2 cores shared with ~6 other jobs, so absolute times move 2-3x between runs and "
        "a busy neighbour during one case skews a ratio; compilation (10-30 s per case) is excluded.",
    ]


if __name__ == "__main__":
    main()
