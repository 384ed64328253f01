"""``ch export onnx|qonnx|hls4ml`` on the JSC zoo: export time, file size, mismatches, accuracies per target.

Run: ``.venv/bin/python benchmarks/exports.py [--models jsc-tiny jsc-toy jsc-s] [--targets onnx qonnx hls4ml]``.
Each model is trained as ``benchmarks/hardware.py`` trains it (seeded, a few epochs on jsc-pythia)
and exported at each of that benchmark's quantisation points (``POINTS``) by every target, into a
fresh project (and, for hls4ml, a fresh build cache, so every compile time is a real g++ build);
the peer runs the whole test split. Each finished export is appended to ``--results`` (JSON lines);
``--table`` prints the Markdown table of a results file.
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
from chop.workflows.export_onnx import run_export_onnx  # noqa: E402
from chop.workflows.export_qonnx import run_export_qonnx  # noqa: E402
from chop.workflows.transform import graph_with_metadata  # noqa: E402

RESULTS = Path(__file__).with_name("export_results.jsonl")
TARGETS = ("onnx", "qonnx", "hls4ml")


def _export(target: str, model: Any, passes: dict[str, Any], data: Any, work: Path) -> dict[str, Any]:
    """One export into ``work``: the figures every target reports, then the target's own."""
    if target == "hls4ml":
        outcome = run_export_hls4ml(model, passes, data, work / "project", cache=work / "cache")
        c = outcome.comparison
        return {"export_s": outcome.export_seconds, "compile_s": round(outcome.library.build_seconds, 2),
                "run_s": outcome.predict_seconds, "file_bytes": outcome.file_bytes, "rows": c.rows,
                "mismatching_rows": c.mismatching_rows, "peer_accuracy": c.hls4ml_accuracy,
                "machop_accuracy": c.prepared_accuracy, "quantised_accuracy": c.quantised_accuracy}
    run = run_export_onnx if target == "onnx" else run_export_qonnx
    outcome = run(model, passes, data, work / "project")
    c = outcome.comparison
    summary = outcome.as_json()
    return {"export_s": summary["export_seconds"], "run_s": summary.get("run_seconds"), "file_bytes": outcome.file_bytes,
            "rows": c.rows, "mismatching_rows": c.mismatching_rows, "peer_accuracy": c.peer_accuracy,
            "machop_accuracy": c.machop_accuracy}


def measure(name: str, epochs: int, targets: list[str], results: Path) -> None:
    model, train_seconds = train(name, epochs)
    data = load_dataset("jsc-pythia")
    x = example_batch(model, data.x_test)
    for point, passes_of in POINTS.items():
        passes = {"quantize": passes_of(graph_with_metadata(model, x[:2]))}
        for target in targets:
            with tempfile.TemporaryDirectory() as work:
                figures = _export(target, model, passes, data, Path(work))
            row = {"target": target, "model": name, "point": point, "epochs": epochs,
                   "train_s": round(train_seconds, 1), **figures}
            print(json.dumps(row), flush=True)
            with open(results, "a") as handle:
                handle.write(json.dumps(row) + "\n")


def table(results: Path) -> str:
    lines = ["| target | model | point | export s | g++ s | run s | file bytes | mismatching rows | peer acc | "
             "machop acc |", "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for text in results.read_text().splitlines():
        r: dict[str, Any] = json.loads(text)
        compile_s = f"{r['compile_s']:.1f}" if "compile_s" in r else ""
        run_s = f"{r['run_s']:.2f}" if r["run_s"] is not None else ""
        lines.append(f"| {r['target']} | {r['model']} | {r['point']} | {r['export_s']:.2f} | {compile_s} | "
                     f"{run_s} | {r['file_bytes']:,} | {r['mismatching_rows']} of {r['rows']:,} | "
                     f"{100 * r['peer_accuracy']:.2f} % | {100 * r['machop_accuracy']:.2f} % |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--targets", nargs="+", default=list(TARGETS), choices=TARGETS)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--table", action="store_true", help="print the Markdown table of --results and stop")
    args = parser.parse_args()
    if args.table:
        print(table(args.results))
        return
    for name in args.models:
        measure(name, args.epochs, args.targets, args.results)


if __name__ == "__main__":
    main()
