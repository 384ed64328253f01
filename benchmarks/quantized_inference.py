"""Quantised vs float inference throughput of jsc-s on the full validation split.

Run: ``.venv/bin/python benchmarks/quantized_inference.py [--data-path FILE]``. The rows are the
``jsc`` validation split when the dataset is found (``--data-path``, ``$MACHOP_DATA_DIR``, cache),
otherwise the same number of synthetic standardised rows (78,945 = 10 % of MASE's 789,444
training rows): throughput does not depend on the values. One intra-op thread (machop's setting),
evaluation in chunks of 8,192 rows as ``evaluate_models`` does, median of the repeats; the float
baseline is timed in the same process, so the ratios are what count on a shared machine.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chop.errors import MachopError  # noqa: E402
from chop.models import get_model  # noqa: E402
from chop.passes.graph.transforms import quantize_transform_pass  # noqa: E402
from chop.workflows.transform import graph_with_metadata  # noqa: E402
from chop.tools.runtime import configure_threads  # noqa: E402

FULL_VALIDATION_ROWS = 78_945
CHUNK = 8192


def _ops(name: str, keys: dict[str, int | str], ops: tuple[str, ...]) -> dict:
    config = {"name": name, **{f"{o}_{k}": v for o in ("data_in", "weight", "bias") for k, v in keys.items()}}
    return {"by": "type", "default": {"config": {"name": None}}, **{op: {"config": dict(config)} for op in ops}}


CASES = {
    "integer 8/4, linear only (the spec's TOML)": _ops("integer", {"width": 8, "frac_width": 4}, ("linear",)),
    "integer 8/4, linear + relu + batch_norm1d": _ops("integer", {"width": 8, "frac_width": 4},
                                                       ("linear", "relu", "batch_norm1d")),
    "ap_fixed<8,4,RND_CONV,SAT>, linear only": _ops("ap_fixed", {"width": 8, "int_width": 4, "rounding": "RND_CONV",
                                                                 "overflow": "SAT"}, ("linear",)),
    "ap_fixed<8,4> (TRN, WRAP: the float64 path), linear only": _ops("ap_fixed", {"width": 8, "int_width": 4},
                                                                     ("linear",)),
    "minifloat_ieee 8 (E4M3), linear only": _ops("minifloat_ieee", {"width": 8, "exponent_width": 4}, ("linear",)),
}


def validation_rows(data_path: str | None) -> tuple[np.ndarray, str]:
    try:
        from chop.dataset import load_dataset

        data = load_dataset("jsc", data_path)
        return data.x_val, f"jsc validation split ({len(data.x_val):,} rows, {data.provenance.get('source', '?')})"
    except MachopError as error:
        rng = np.random.default_rng(0)
        rows = rng.standard_normal((FULL_VALIDATION_ROWS, 16)).astype(np.float32)
        return rows, f"synthetic standardised rows ({FULL_VALIDATION_ROWS:,}; jsc not found: {str(error)[:80]}...)"


def seconds_per_pass(model: torch.nn.Module, x: torch.Tensor, repeats: int) -> float:
    times = []
    with torch.no_grad():
        for start in range(0, len(x), CHUNK):  # warm-up
            model(x[start:start + CHUNK])
        for _ in range(repeats):
            began = time.perf_counter()
            for start in range(0, len(x), CHUNK):
                model(x[start:start + CHUNK])
            times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-path", default=None)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    threads = configure_threads()
    rows, source = validation_rows(args.data_path)
    x = torch.as_tensor(rows, dtype=torch.float32)
    torch.manual_seed(0)
    model = get_model("jsc-s").eval()
    graph = graph_with_metadata(model, x[:32])
    float_seconds = seconds_per_pass(graph.model, x, args.repeats)
    print(f"rows: {source}; torch {torch.__version__}, {threads} thread(s), chunks of {CHUNK}, "
          f"median of {args.repeats}")
    print("| model | seconds per pass | rows/s | time vs float |")
    print("|---|---|---|---|")
    print(f"| jsc-s float32 | {float_seconds:.4f} | {len(x) / float_seconds:,.0f} | 1.00 |")
    for name, pass_args in CASES.items():
        quantized, _ = quantize_transform_pass(copy.deepcopy(graph), pass_args)
        seconds = seconds_per_pass(quantized.model, x, args.repeats)
        print(f"| jsc-s {name} | {seconds:.4f} | {len(x) / seconds:,.0f} | {seconds / float_seconds:.2f} |")


if __name__ == "__main__":
    main()
