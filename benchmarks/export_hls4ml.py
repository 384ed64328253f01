"""``ch export hls4ml`` on the JSC zoo: export and compile times, source size, mismatches, accuracies.

Run: ``.venv/bin/python benchmarks/export_hls4ml.py [--models jsc-tiny jsc-toy jsc-s] [--epochs 3]``.
Each model is trained as ``benchmarks/hardware.py`` trains it (seeded, a few epochs on jsc-pythia)
and exported at each of that benchmark's quantisation points (``POINTS``) into a fresh project and
a fresh build cache, so every compile time is a real g++ build. Each finished point is appended to
``--results`` (JSON lines); ``--table`` prints the Markdown table of a results file.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hardware import MODELS, POINTS, train  # noqa: E402  (benchmarks/hardware.py: the same models and points)

from chop.dataset import load_dataset  # noqa: E402
from chop.models.input_shape import example_batch  # noqa: E402
from chop.workflows.export_hls4ml import run_export_hls4ml  # noqa: E402
from chop.workflows.transform import graph_with_metadata  # noqa: E402

RESULTS = Path(__file__).with_name("export_hls4ml_results.jsonl")


def measure(name: str, epochs: int, results: Path) -> None:
    model, train_seconds = train(name, epochs)
    data = load_dataset("jsc-pythia")
    x = example_batch(model, data.x_test)
    for point, passes_of in POINTS.items():
        passes = {"quantize": passes_of(graph_with_metadata(model, x[:2]))}
        with tempfile.TemporaryDirectory() as work:
            outcome = run_export_hls4ml(model, passes, data, Path(work) / "project", cache=Path(work) / "cache")
        c = outcome.comparison
        row = {"model": name, "point": point, "epochs": epochs, "train_s": round(train_seconds, 1), "rows": c.rows,
               "export_s": outcome.export_seconds, "compile_s": round(outcome.library.build_seconds, 2),
               "predict_s": outcome.predict_seconds, "file_bytes": outcome.file_bytes,
               "mismatching_rows": c.mismatching_rows, "quantised_accuracy": c.quantised_accuracy,
               "prepared_accuracy": c.prepared_accuracy, "hls4ml_accuracy": c.hls4ml_accuracy}
        print(json.dumps(row), flush=True)
        with open(results, "a") as handle:
            handle.write(json.dumps(row) + "\n")


def table(results: Path) -> str:
    lines = ["| model | point | export s | g++ s | model sources (bytes) | mismatching rows | quantised acc | "
             "prepared acc | hls4ml acc |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for text in results.read_text().splitlines():
        r: dict[str, Any] = json.loads(text)
        lines.append(f"| {r['model']} | {r['point']} | {r['export_s']:.2f} | {r['compile_s']:.1f} | "
                     f"{r['file_bytes']:,} | {r['mismatching_rows']} of {r['rows']:,} | "
                     f"{100 * r['quantised_accuracy']:.2f} % | {100 * r['prepared_accuracy']:.2f} % | "
                     f"{100 * r['hls4ml_accuracy']:.2f} % |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--table", action="store_true", help="print the Markdown table of --results and stop")
    args = parser.parse_args()
    if args.table:
        print(table(args.results))
        return
    for name in args.models:
        measure(name, args.epochs, args.results)


if __name__ == "__main__":
    main()
