"""CUDA correctness check: every engine path trains on the GPU to what it trains on the CPU.

The test suite runs on CPU-only CI, so it cannot cover the GPU. This script is the device-side check,
run on a GPU machine next to the GPU benchmarks (see ``benchmarks/gpu_session.sh``). It trains the
same models from the same seeds on the same batches on ``cpu`` and on ``cuda``, through each engine
path, and compares every parameter, buffer and epoch metric:
  stacked, eager and compiled (the compiled ``while_loop`` is the part most likely to differ on CUDA);
  vmap (jsc-conv-res, K = 3) and the general loop (jsc-conv-res, K = 1).
jsc-conv-res trains with SGD: its convolution biases feed BatchNorm, and Adam turns their rounding
noise into full-size steps on any two devices (docs/engine.md). Exit status 1 on any mismatch.

    PYTHONPATH=. python3 benchmarks/cuda_check.py [--device cuda]

``--device cpu`` compares the CPU with itself (every difference must be 0): a check of the script.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

import torch

from chop.dataset import load_dataset
from chop.engine import GroupConfig, RunConfig, train_ensemble
from chop.models import get_model

ROWS = 20_000
TOLERANCE = 1e-3  # two epochs of 78 steps; float32 sums are ordered differently on the two devices


@dataclasses.dataclass(frozen=True)
class Case:
    label: str
    model: str
    path: str
    compile: bool
    runs: tuple[RunConfig, ...]


ADAM = (RunConfig(0, 1e-3), RunConfig(1, 3e-3), RunConfig(2, 2e-3))
SGD = (RunConfig(0, 1e-2, "sgd"), RunConfig(1, 3e-2, "sgd"), RunConfig(2, 5e-3, "sgd"))
# the compiled while_loop first: it is the part most likely to differ on CUDA, so a run cut short
# by its time limit has still checked it
CASES = (
    Case("stacked, compiled", "jsc-tiny", "stacked", True, ADAM),
    Case("stacked, eager", "jsc-tiny", "stacked", False, ADAM),
    Case("vmap", "jsc-conv-res", "vmap", False, SGD),
    Case("general", "jsc-conv-res", "general", False, SGD[:1]),
)


def train(case: Case, data, device: str):
    group = GroupConfig(batch_size=256, max_epochs=2, device=device, compile=case.compile)
    return train_ensemble(lambda: get_model(case.model), data, list(case.runs), group, progress=False, path=case.path)


def largest_difference(cpu, other) -> tuple[float, str]:
    worst, where = 0.0, ""
    for k, (a, b) in enumerate(zip(cpu.models, other.models, strict=True)):
        for (name, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
            difference = float((x.double() - y.cpu().double()).abs().max()) if x.numel() else 0.0
            if difference > worst:
                worst, where = difference, f"model {k} {name}"
    for a, b in zip(cpu.history, other.history, strict=True):
        for values in ("val_acc_epoch", "val_loss_epoch", "train_loss_step"):
            for x, y in zip(getattr(a, values), getattr(b, values), strict=True):
                if abs(x - y) > worst:
                    worst, where = abs(x - y), f"epoch {a.epoch} {values}"
    return worst, where


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="the device compared with the CPU (default cuda)")
    device = parser.parse_args().device
    if device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("torch sees no CUDA GPU")
    full = load_dataset("jsc-pythia")
    data = dataclasses.replace(full, x_train=full.x_train[:ROWS], y_train=full.y_train[:ROWS])
    name = torch.cuda.get_device_name() if device.startswith("cuda") else device
    print(f"{name}, torch {torch.__version__}; {ROWS} training rows, 2 epochs, batch 256")
    print(f"| path | model | K | largest abs(cpu - {device}) | where | verdict |")
    print("|---|---|---|---|---|---|")
    failed = False
    for case in CASES:
        cpu, other = train(case, data, "cpu"), train(case, data, device)
        assert cpu.path == other.path == case.path, (cpu.path, other.path)
        worst, where = largest_difference(cpu, other)
        ok = worst <= TOLERANCE
        failed |= not ok
        print(f"| {case.label} | {case.model} | {len(case.runs)} | {worst:.2e} | {where} | "
              f"{'ok' if ok else 'MISMATCH'} |", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
