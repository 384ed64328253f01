"""Batched statistics profiling vs MASE's sample-by-sample loop, in one run (issue 4, item 7).

jsc-s, 100,000 samples, all six statistics on the weights and on the inputs of every computing
node (14 nodes). The batched profiler (fx.Interpreter over whole batches) is timed on all 100k
samples; the per-sample reference (the same interpreter fed one sample at a time, each statistic
updated per sample, as MASE does) is timed on a subset and scaled linearly, since running it on
100k samples would take minutes. Both are run on that subset too, and their numbers compared.

    .venv/bin/python benchmarks/profile_statistics.py [--samples 100000] [--reference-samples 2000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from chop.ir.graph.mase_graph import MaseGraph
from chop.models import get_model
from chop.passes.graph import (
    add_common_metadata_analysis_pass,
    add_software_metadata_analysis_pass,
    init_metadata_analysis_pass,
    profile_statistics_analysis_pass,
)
from chop.passes.graph.analysis.profile_statistics import (
    _ActivationProfiler,
    _collectors,
    node_parameters,
    select_nodes,
)
from chop.tools.runtime import configure_threads

STATISTICS = {
    "variance_precise": {"dims": "all"}, "variance_online": {"dims": "all"}, "range_min_max": {"dims": "all"},
    "range_quantile": {"dims": "all", "quantile": 0.97}, "range_n_sigma": {"dims": "all"}, "abs_mean": {"dims": "all"},
}


def prepared_graph() -> tuple[MaseGraph, list[str]]:
    torch.manual_seed(0)
    mg = MaseGraph(get_model("jsc-s"))
    mg, _ = init_metadata_analysis_pass(mg)
    mg, _ = add_common_metadata_analysis_pass(mg, {"dummy_in": {"x": torch.randn(4, 16)}, "add_value": False})
    mg, _ = add_software_metadata_analysis_pass(mg)
    computing = [n.name for n in mg.nodes if n.op == "call_module"]
    return mg, computing


def batched(mg: MaseGraph, nodes: list[str], x: torch.Tensor, batch_size: int) -> tuple[float, float, dict]:
    """Wall and CPU seconds of the profiler pass (CPU time is the fairer figure on a shared machine)."""
    generator = [{"x": x[i:i + batch_size]} for i in range(0, len(x), batch_size)]
    start, cpu_start = time.perf_counter(), time.process_time()
    _, info = profile_statistics_analysis_pass(mg, {
        "by": "name", "target_weight_nodes": [n for n in nodes if node_parameters(mg, mg.node(n))],
        "target_activation_nodes": nodes, "weight_statistics": STATISTICS, "activation_statistics": STATISTICS,
        "input_generator": generator, "num_samples": len(x)})
    return time.perf_counter() - start, time.process_time() - cpu_start, info


def per_sample(mg: MaseGraph, nodes: list[str], x: torch.Tensor) -> tuple[float, float, dict]:
    """MASE's loop: one sample per interpreter run, every statistic updated per sample."""
    targets = select_nodes(mg, "name", nodes, "node")
    collectors = _collectors(targets, STATISTICS)
    profiler = _ActivationProfiler(mg.model, collectors, None)
    mg.model.eval()
    start, cpu_start = time.perf_counter(), time.process_time()
    with torch.no_grad():
        for row in x:
            profiler.run(row.unsqueeze(0))
    results = {node.name: {operand: {name: stat.compute() for name, stat in stats.items()}
                           for operand, stats in operands.items()} for node, operands in collectors.items()}
    return time.perf_counter() - start, time.process_time() - cpu_start, results


def max_relative_difference(a: dict, b: dict) -> float:
    worst = 0.0
    for node, operands in b.items():
        for operand, stats in operands.items():
            for name, values in stats.items():
                for key, value in values.items():
                    got = a[node][operand][name][key]
                    worst = max(worst, abs(got - value) / max(abs(value), 1e-12))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--reference-samples", type=int, default=2_000)
    parser.add_argument("--batch-size", type=int, default=8192)
    args = parser.parse_args()
    configure_threads()
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((args.samples, 16), dtype=np.float32))
    mg, nodes = prepared_graph()

    batched(mg, nodes, x[:1024], args.batch_size)  # warm-up (first-call allocations)
    full_time, full_cpu, _ = batched(mg, nodes, x, args.batch_size)
    subset = x[:args.reference_samples]
    _, _, subset_batched = batched(mg, nodes, subset, args.batch_size)
    reference_time, reference_cpu, reference = per_sample(mg, nodes, subset)
    scale = args.samples / args.reference_samples
    difference = max_relative_difference(subset_batched["activations"], reference)

    print(f"jsc-s, {len(nodes)} activation targets + weights, 6 statistics, torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s)")
    print(f"batched profiler ({args.samples:,} samples, batch {args.batch_size}): "
          f"{full_time:.3f} s wall, {full_cpu:.3f} s CPU")
    print(f"per-sample reference: {reference_time:.2f} s wall, {reference_cpu:.2f} s CPU for "
          f"{args.reference_samples:,} samples -> {reference_time * scale:.0f} s wall, "
          f"{reference_cpu * scale:.0f} s CPU estimated for {args.samples:,}")
    print(f"speed-up: {reference_time * scale / full_time:.0f}x wall, {reference_cpu * scale / full_cpu:.0f}x CPU; "
          f"max relative difference on the subset: {difference:.1e}")


if __name__ == "__main__":
    main()
