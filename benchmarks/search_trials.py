"""Search trials per second: machop's ``ch search`` trial against a MASE-style trial, same configs.

A trial of MASE's mixed-precision search builds the quantised graph and evaluates it through the
data module: trace the float model into a ``MaseGraph``, run the metadata passes on a dummy input,
quantise, then loop over validation batches from a ``DataLoader`` with a torchmetrics accuracy
until ``num_samples`` rows are seen. machop traces once, deep-copies the traced graph per trial,
quantises the copy and evaluates the rows as one tensor. Both sides here run the same sampled
configs (machop's random sampler picks them first) on the same rows, in this process, with one
intra-op thread; the ratio is what counts.

    python benchmarks/search_trials.py [--model jsc-toy] [--trials 100] [--num-samples 512] [--batch-size 128]
"""

from __future__ import annotations

import argparse
import copy
import time

import torch
import torch.nn.functional as F
import torchmetrics
from machine import cpu_name
from torch.utils.data import DataLoader, TensorDataset

from chop.dataset import load_dataset
from chop.models import get_model
from chop.passes.graph.transforms.quantize import quantize_transform_pass
from chop.workflows.transform import dummy_input, graph_with_metadata
from chop.search import parse_search_config, run_search
from chop.tools.runtime import configure_threads

SEED = {"name": ["integer"], "data_in_width": [4, 8], "data_in_frac_width": ["NA"], "weight_width": [2, 4, 8],
        "weight_frac_width": ["NA"], "bias_width": [2, 4, 8], "bias_frac_width": ["NA"]}


def search_table(trials: int, num_samples: int) -> dict:
    """MASE's lab-3 search, by type, random sampler, accuracy and average bit width as objectives."""
    return {
        "search_space": {"name": "graph/quantize/mixed_precision_ptq", "setup": {"by": "type"},
                         "seed": {"default": {"config": {"name": ["NA"]}}, "linear": {"config": SEED}}},
        "strategy": {"name": "optuna", "eval_mode": True,
                     "sw_runner": {"basic_evaluation": {"data_loader": "val_dataloader", "num_samples": num_samples}},
                     "hw_runner": {"average_bitwidth": {"compare_to": 32}},
                     "setup": {"n_trials": trials, "sampler": "random", "sum_scaled_metrics": False},
                     "metrics": {"accuracy": {"scale": 1.0, "direction": "maximize"},
                                 "average_bitwidth": {"scale": 0.2, "direction": "minimize"}}},
    }


def mase_style_trial(model: torch.nn.Module, config: dict, loader: DataLoader, num_samples: int,
                     dummy: torch.Tensor) -> float:
    """One trial as MASE's search runs it: trace, metadata, quantise, evaluate batch by batch."""
    graph = graph_with_metadata(copy.deepcopy(model), dummy)
    graph, _ = quantize_transform_pass(graph, config)
    accuracy = torchmetrics.classification.MulticlassAccuracy(num_classes=5, average="micro")
    seen, loss = 0, 0.0
    with torch.no_grad():
        for x, y in loader:
            logits = graph.model(x)
            loss += float(F.cross_entropy(logits, y, reduction="sum"))
            accuracy.update(logits, y)
            seen += len(y)
            if seen >= num_samples:
                break
    return float(accuracy.compute())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="jsc-toy")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--num-samples", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=128, help="the baseline's DataLoader batch (MASE's default)")
    args = parser.parse_args()
    configure_threads()
    data = load_dataset("jsc-pythia")
    torch.manual_seed(0)
    model = get_model(args.model).eval()
    config = parse_search_config(search_table(args.trials, args.num_samples), "benchmark")

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        outcome = run_search(model, config, data, tmp, seed=0)
        machop = time.perf_counter() - start  # the whole search: tracing once, sampling, every trial
    configs = [trial.sampled_config for trial in outcome.result.trials]
    rows = args.num_samples
    loader = DataLoader(TensorDataset(torch.as_tensor(data.x_val[:rows]), torch.as_tensor(data.y_val[:rows])),
                        batch_size=args.batch_size)
    dummy = dummy_input(model, data.x_train)
    start = time.perf_counter()
    for sampled in configs:
        mase_style_trial(model, sampled, loader, args.num_samples, dummy)
    baseline = time.perf_counter() - start  # trials only: no sampler, no files

    print(f"{cpu_name()}, torch {torch.__version__}, {torch.get_num_threads()} thread(s); {args.model}, "
          f"{len(configs)} trials (random sampler), {args.num_samples} validation rows, baseline batch {args.batch_size}")
    print("| | seconds | trials/s |")
    print("|---|---|---|")
    print(f"| MASE-style trials (trace + metadata + quantise + DataLoader/torchmetrics) | {baseline:.2f} | "
          f"{len(configs) / baseline:.1f} |")
    print(f"| machop `run_search` (whole search, files included) | {machop:.2f} | {len(configs) / machop:.1f} |")
    print(f"ratio: {baseline / machop:.1f}x")


if __name__ == "__main__":
    main()
