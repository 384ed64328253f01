"""Search candidates per CPU-minute: stacked scoring (batches) against one-at-a-time trials, full-size rows.

Default mode (issue 15, item 4): MASE's lab-3 space (integer linear layers, random sampler, accuracy
and average bit width) evaluated on a validation split of the full-size shape, 78,945 synthetic
standardised rows x 16 (10 % of MASE's 789,444 training rows, as ``quantized_inference.py`` makes
them: the jsc file is not available offline, and speed does not depend on the values). Each model
runs ``run_search`` twice in this process, with one intra-op thread: one trial at a time
(``batch_size = 1``, today's path: copy the graph, quantise it, evaluate) and in stacked batches
(``batch_size = --stack``). CPU time (``time.process_time``) is measured, not wall time, since the
machine is shared; the random sampler draws the same points either way, so the first trials of
both runs are the same candidates, and their log entries are checked to be equal.

    python benchmarks/search_trials.py [--models jsc-toy jsc-s] [--candidates 512] [--baseline 32] [--stack 64]
                                       [--rows N]

``--against-mase`` runs the earlier comparison instead: ``run_search`` against MASE-style trials
(trace, metadata passes, quantise, DataLoader + torchmetrics) of the same sampled configs.

    python benchmarks/search_trials.py --against-mase [--model jsc-toy] [--trials 100] [--num-samples 512]
                                       [--batch-size 128]
"""

from __future__ import annotations

import argparse
import copy
import json
import tempfile
import time
from pathlib import Path

import numpy as np

import torch
import torch.nn.functional as F
import torchmetrics
from machine import cpu_name
from torch.utils.data import DataLoader, TensorDataset

from chop.dataset import load_dataset
from chop.dataset.splits import DatasetInfo, DatasetSplits
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


FULL_VALIDATION_ROWS = 78_945
TIME_FIELDS = ("datetime_start", "datetime_complete", "duration")


def full_size_rows() -> DatasetSplits:
    """78,945 synthetic standardised rows x 16 as the validation split (labels drawn uniformly)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((FULL_VALIDATION_ROWS, 16)).astype(np.float32)
    y = rng.integers(0, 5, FULL_VALIDATION_ROWS)
    return DatasetSplits(DatasetInfo("jsc"), x[:1000], y[:1000], x, y, x[:1000], y[:1000])


def timed_search(model: torch.nn.Module, data: DatasetSplits, trials: int, batch_size: int,
                 rows: int) -> tuple[float, list[dict]]:
    """CPU seconds of a whole ``run_search`` (tracing, sampling, scoring, files) and its log entries."""
    table = search_table(trials, rows)
    table["strategy"]["setup"]["batch_size"] = batch_size
    config = parse_search_config(table, "benchmark")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.process_time()
        outcome = run_search(model, config, data, tmp, seed=0)
        seconds = time.process_time() - start
        log = json.loads(Path(outcome.log_path).read_text())
    entries = [{k: v for k, v in entry.items() if k not in TIME_FIELDS} for entry in log.values()]
    return seconds, entries


def forward_rate(module: torch.nn.Module, x: torch.Tensor, repeats: int = 20) -> float:
    """Forwards of ``module`` over ``x`` per CPU-minute: what a candidate costs if scoring were only that."""
    with torch.no_grad():
        module(x)
        start = time.process_time()
        for _ in range(repeats):
            module(x)
        return repeats / (time.process_time() - start) * 60


def floors(model: torch.nn.Module, data: DatasetSplits, sampled: dict, rows: int) -> tuple[float, float]:
    """Candidates per CPU-minute of bare forwards: the float model, and one quantised candidate's graph.

    Any path that scores each candidate on every row does at least the float model's arithmetic per
    candidate; the quantised graph's forward is what one trial costs without its copy, quantise and
    bookkeeping. Both bound the ratio a stacked path can reach over one at a time.
    """
    x = torch.as_tensor(data.x_val[:rows])
    graph = graph_with_metadata(copy.deepcopy(model), dummy_input(model, data.x_train))
    quantised, _ = quantize_transform_pass(graph, sampled)
    return forward_rate(model, x), forward_rate(quantised.model, x)


def stacked_against_one_at_a_time(args: argparse.Namespace) -> None:
    data = full_size_rows()
    print(f"{cpu_name()}, torch {torch.__version__}, {torch.get_num_threads()} thread(s); "
          f"{args.rows:,} of {FULL_VALIDATION_ROWS:,} validation rows x 16 (synthetic, standardised); "
          "lab-3 space, random sampler")
    print("| model | path | candidates | distinct points | CPU s | candidates / CPU-minute |")
    print("|---|---|---|---|---|---|")
    for name in args.models:
        torch.manual_seed(0)
        model = get_model(name).eval()
        one_s, one_log = timed_search(model, data, args.baseline, 1, args.rows)
        stacked_s, stacked_log = timed_search(model, data, args.candidates, args.stack, args.rows)
        common = min(len(one_log), len(stacked_log))
        assert stacked_log[:common] == one_log[:common], "stacked and one-at-a-time logs differ"
        rates = []
        for label, seconds, log in (("one at a time (batch_size = 1)", one_s, one_log),
                                    (f"stacked (batch_size = {args.stack})", stacked_s, stacked_log)):
            distinct = len({json.dumps(e["user_attrs_sampled_config"], sort_keys=True) for e in log})
            rates.append(len(log) / seconds * 60)
            print(f"| {name} | {label} | {len(log)} | {distinct} | {seconds:.1f} | {rates[-1]:,.0f} |")
        print(f"| {name} | ratio | | | | {rates[1] / rates[0]:.1f}x (first {common} log entries identical) |")
        float_rate, quantised_rate = floors(model, data, one_log[0]["user_attrs_sampled_config"], args.rows)
        print(f"| {name} | bare forward of one quantised candidate (trial 0) | | | | {quantised_rate:,.0f} "
              f"({quantised_rate / rates[0]:.1f}x one at a time) |")
        print(f"| {name} | bare forward of the float model | | | | {float_rate:,.0f} "
              f"({float_rate / rates[0]:.1f}x one at a time) |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["jsc-toy", "jsc-s"])
    parser.add_argument("--candidates", type=int, default=512, help="trials of the stacked search")
    parser.add_argument("--baseline", type=int, default=32, help="trials of the one-at-a-time search")
    parser.add_argument("--stack", type=int, default=64, help="the stacked search's batch_size")
    parser.add_argument("--rows", type=int, default=FULL_VALIDATION_ROWS, help="evaluated rows (num_samples)")
    parser.add_argument("--against-mase", action="store_true", help="the earlier comparison with MASE-style trials")
    parser.add_argument("--model", default="jsc-toy")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--num-samples", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=128, help="the baseline's DataLoader batch (MASE's default)")
    args = parser.parse_args()
    configure_threads()
    if args.against_mase:
        against_mase(args)
    else:
        stacked_against_one_at_a_time(args)


def against_mase(args: argparse.Namespace) -> None:
    data = load_dataset("jsc-pythia")
    torch.manual_seed(0)
    model = get_model(args.model).eval()
    config = parse_search_config(search_table(args.trials, args.num_samples), "benchmark")

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
          f"{len(configs)} trials (random sampler), {args.num_samples} validation rows, "
          f"baseline batch {args.batch_size}")
    print("| | seconds | trials/s |")
    print("|---|---|---|")
    print(f"| MASE-style trials (trace + metadata + quantise + DataLoader/torchmetrics) | {baseline:.2f} | "
          f"{len(configs) / baseline:.1f} |")
    print(f"| machop `run_search` (whole search, files included) | {machop:.2f} | {len(configs) / machop:.1f} |")
    print(f"ratio: {baseline / machop:.1f}x")


if __name__ == "__main__":
    main()
