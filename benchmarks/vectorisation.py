"""Stacked weights vs ``torch.func.vmap`` vs a loop: which way of training K models at once is fastest.

Issue 3 asked for the engine's vectorisation to be chosen by measurement ("stacked parameters
with batched matmuls, or torch.func vmap: measure which is faster"). machop's three engine paths
train K = 10 copies of one architecture, each with its own initialisation, on the same shared
batches with Adam, in this process with one intra-op thread:
  general  K modules, K ``torch.optim.Adam``, one after the other per step (``looped.py``);
  vmap     ``vmap(grad_and_value(functional_call))`` over the stacked parameters and buffers, then
           the fast path's optimiser step on one ``(K, P)`` tensor (``vmapped.py``);
  stacked  Linear/BatchNorm1d/ReLU chains only: hand-written backward on ``(K, ...)`` tensors,
           eager and compiled (``stacked.py``).
Each case times a fixed number of steps after a warm-up (compilation excluded).

    python benchmarks/vectorisation.py [--models jsc-tiny jsc-conv-res] [--k 10] [--batch 256] [--steps 300]
"""

from __future__ import annotations

import argparse
import time

import torch
from machine import cpu_name
from torch import Tensor, nn

from chop.engine import GroupConfig, RunConfig
from chop.engine.batches import batch_bounds, epoch_order
from chop.engine.stacked import plan_for
from chop.engine.trainer import make_group
from chop.models import get_model

ROWS, FEATURES, CLASSES = 789_444, 16, 5  # the full-size JSC shape: 3,084 steps per epoch at batch 256


def build(name: str, k: int) -> list[nn.Module]:
    models = []
    for seed in range(k):
        torch.manual_seed(seed)
        models.append(get_model(name))
    return models


def time_engine(name: str, k: int, batch: int, path: str, compiled: bool, x: Tensor, y: Tensor,
                steps: int, warmup: int) -> float:
    """Seconds per step of machop's engine on ``path`` (``general``, ``vmap`` or ``stacked``)."""
    runs = [RunConfig(seed=i, learning_rate=1e-3) for i in range(k)]
    group = make_group(build(name, k), runs, GroupConfig(batch, 10, compile=compiled), torch.device("cpu"),
                       FEATURES, None, path)
    order = epoch_order(ROWS, [run.seed for run in runs], True, 0, 0, torch.device("cpu"))
    group.begin_epoch([1e-3] * k, 1, batch_bounds(ROWS, batch), order)
    group.train_range(x, y, 0, warmup)
    start = time.perf_counter()
    _, acc = group.train_range(x, y, warmup, warmup + steps)
    float(acc.mean())
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["jsc-tiny", "jsc-conv-res"])
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(0)
    x, y = torch.randn(ROWS, FEATURES, generator=generator), torch.randint(0, CLASSES, (ROWS,), generator=generator)
    print(f"{cpu_name()}, torch {torch.__version__}, 1 thread; K={args.k}, batch {args.batch}, shared batches, "
          f"Adam; {args.steps} steps timed per case after 20 warm-up steps")
    print("| model | way | ms/step | vs general |")
    print("|---|---|---|---|")
    for name in args.models:
        ways = [("general (loop)", "general", False), ("vmap", "vmap", False)]
        if plan_for(get_model(name)) is not None:
            ways += [("stacked, eager", "stacked", False), ("stacked, compiled", "stacked", True)]
        general = None
        for label, path, compiled in ways:
            steps = args.steps * (10 if compiled else 1)  # the compiled step is ~10x faster
            seconds = time_engine(name, args.k, args.batch, path, compiled, x, y, steps, 20)
            general = general or seconds
            print(f"| {name} | {label} | {seconds * 1e3:.3f} | {general / seconds:.1f}x |", flush=True)

if __name__ == "__main__":
    main()
