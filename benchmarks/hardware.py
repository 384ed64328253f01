"""The hardware flow on the JSC zoo: emit, simulate and synthesise; machop's own constant products against da4ml's.

Run: ``.venv/bin/python benchmarks/hardware.py [--models jsc-tiny jsc-toy jsc-s] [--epochs 3]``.
For each model (trained for a few epochs on jsc-pythia, seeded) and each quantisation point
(``POINTS``), the prepared graph is emitted three times (``DESIGNS``): with machop's own constant
products (the default ``"shared"`` style: sums shared across rows), with the ``"csd"`` style (one
tree per row, nothing shared), and with da4ml's adder graphs inside machop's layer modules
(``linear_impl="da4ml"``). Each design runs the whole jsc-pythia test split in Verilator
(mismatches against the integer reference, RTL accuracy, latency) and goes through one Yosys
``synth_xilinx`` command. "da4ml's design" is da4ml on its own: every linear layer's weight
codes through ``da4ml_linear_verilog`` and the same Yosys command, module by module (the exact
``x @ W^T``, no bias, requantiser or register). "machop alone" is the same for machop's own
products: each linear layer's weights with a zero bias, an output as wide as the exact
accumulator (nothing to round or saturate) and no register, emitted and synthesised the same way,
so the two are compared on the same work. Both flows are timed from the weights to the
synthesis report in the same process, so the time ratio is what counts on a shared machine.

Each finished point is appended to ``--results`` (JSON lines) at once, so a run cut short keeps
what it measured; ``--table`` prints the Markdown tables of a results file.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chop.dataset import load_dataset  # noqa: E402
from chop.engine import GroupConfig, RunConfig, train_ensemble  # noqa: E402
from chop.hardware.da4ml_backend import da4ml_linear_verilog  # noqa: E402
from chop.hardware.ops import FixedInput, FixedLinear, HardwareOp  # noqa: E402
from chop.hardware.prepare import prepare  # noqa: E402
from chop.hardware.prepare.precision import accumulator_format, linear_bounds  # noqa: E402
from chop.hardware.reference import integer_reference  # noqa: E402
from chop.hardware.rtl import emit_rtl  # noqa: E402
from chop.hardware.simulate import simulate  # noqa: E402
from chop.hardware.synth import synthesize  # noqa: E402
from chop.ir.graph.mase_graph import MaseGraph, trace  # noqa: E402
from chop.models import get_model  # noqa: E402
from chop.passes.graph.transforms import quantize_transform_pass  # noqa: E402
from chop.workflows.transform import graph_with_metadata  # noqa: E402

MODELS = ("jsc-tiny", "jsc-toy", "jsc-s")
# record key: (table label, emit_rtl options)
DESIGNS: dict[str, tuple[str, dict[str, str]]] = {
    "machop": ("machop (shared)", {"products": "shared"}),
    "machop_csd": ("machop (CSD rows)", {"products": "csd"}),
    "da4ml": ("machop + da4ml sums", {"linear_impl": "da4ml"}),
}
SEED = 0
LEARNING_RATE = 1e-3
BATCH_SIZE = 256


def integer(data: tuple[int, int], weight: tuple[int, int], bias: tuple[int, int] = (8, 4)) -> dict[str, Any]:
    """An ``integer`` node config: data_in, weight and bias as (width, fraction bits)."""
    return {"name": "integer", "data_in_width": data[0], "data_in_frac_width": data[1], "weight_width": weight[0],
            "weight_frac_width": weight[1], "bias_width": bias[0], "bias_frac_width": bias[1]}


def linear_nodes(graph: MaseGraph) -> list[str]:
    return [node.name for node in graph.nodes
            if node.op == "call_module" and isinstance(graph.model.get_submodule(str(node.target)), nn.Linear)]


def uniform(config: dict[str, Any]) -> Callable[[MaseGraph], dict[str, Any]]:
    return lambda graph: {"by": "type", "default": {"config": config}}


def mixed(graph: MaseGraph) -> dict[str, Any]:
    """Data 8/4 everywhere; weights 6/5 in the first linear, 3/2 in the hidden ones, 8/6 in the last."""
    names = linear_nodes(graph)
    args: dict[str, Any] = {"by": "name", "default": {"config": integer((8, 4), (8, 4))}}
    for k, name in enumerate(names):
        weight = (6, 5) if k == 0 else (8, 6) if k == len(names) - 1 else (3, 2)
        args[name] = {"config": integer((8, 4), weight)}
    return args


POINTS: dict[str, Callable[[MaseGraph], dict[str, Any]]] = {
    "integer 8/4": uniform(integer((8, 4), (8, 4))),
    "4-bit weights (4/3), data 8/4": uniform(integer((8, 4), (4, 3))),
    "mixed: weights 6/5, 3/2 hidden, 8/6 last": mixed,
}


def train(name: str, epochs: int) -> tuple[nn.Module, float]:
    data = load_dataset("jsc-pythia")
    result = train_ensemble(lambda: get_model(name), data, [RunConfig(SEED, LEARNING_RATE)],
                            GroupConfig(batch_size=BATCH_SIZE, max_epochs=epochs), progress=False)
    return result.models[0].eval(), result.wall_seconds


def accuracy(scores: Tensor, labels: Tensor) -> float:
    return float((scores.argmax(-1) == labels).double().mean())


def prepared_graph(model: nn.Module, point: str, x: Tensor) -> tuple[Any, float]:
    """The prepared GraphModule of ``model`` at quantisation ``point``, and the quantised model's accuracy input."""
    graph = graph_with_metadata(model, x[:2])
    graph, _ = quantize_transform_pass(graph, POINTS[point](graph))
    with torch.no_grad():
        quantised = graph.model(x)
    return prepare(graph.model).module, quantised


def linear_luts(report: Any) -> int:
    return sum(m.cells.luts * len(m.instances) for m in report.modules if m.module.endswith("_linear"))


def run_design(prepared: Any, options: dict[str, str], work: Path, x: Tensor, y: Tensor,
               reference: Tensor) -> dict[str, Any]:
    """Emit (with ``emit_rtl`` ``options``), simulate and synthesise ``prepared``; the figures."""
    started = time.perf_counter()
    design = emit_rtl(prepared, work / "rtl", **options)
    emit_seconds = time.perf_counter() - started
    first = next(m for m in prepared.modules() if isinstance(m, FixedInput))
    sim = simulate(design, first.integer_forward(x), work / "sim")
    started = time.perf_counter()
    report = synthesize(design.files, design.top_name, work / "synth")
    synth_seconds = time.perf_counter() - started
    total = report.total
    return {"emit_s": round(emit_seconds, 2), "sim_build_s": round(sim.build_seconds, 2),
            "sim_run_s": round(sim.run_seconds, 2), "synth_s": round(synth_seconds, 2),
            "mismatched_rows": int((sim.outputs != reference).any(-1).sum()),
            "rtl_accuracy": accuracy(sim.outputs, y), "latency": sim.latency, "design_latency": design.latency,
            "luts": total.luts, "ffs": total.ffs, "carry4": total.carry4, "dsps": total.dsps,
            "logic_levels": report.logic_levels, "linear_luts": linear_luts(report),
            "weights_to_report_s": round(emit_seconds + synth_seconds, 2)}


def run_da4ml_alone(prepared: Any, work: Path) -> dict[str, Any]:
    """da4ml's own design of every linear layer's weights, through the same Yosys command."""
    luts = ffs = carry4 = 0
    solve = synth = 0.0
    layers = []
    for name, op in prepared.named_modules():
        if not isinstance(op, FixedLinear):
            continue
        started = time.perf_counter()
        module = da4ml_linear_verilog(op.weight, op.in_format, f"{name.replace('.', '_')}_cmvm",
                                      weight_frac=op.weight_format.frac)
        paths = module.write(work / "rtl")
        solve += time.perf_counter() - started
        started = time.perf_counter()
        report = synthesize(paths, module.name, work / module.name)
        synth += time.perf_counter() - started
        luts, ffs, carry4 = luts + report.total.luts, ffs + report.total.ffs, carry4 + report.total.carry4
        layers.append({"module": module.name, "luts": report.total.luts, "da4ml_estimate": round(module.cost)})
    return {"luts": luts, "ffs": ffs, "carry4": carry4, "solve_s": round(solve, 2), "synth_s": round(synth, 2),
            "weights_to_report_s": round(solve + synth, 2), "layers": layers}


def products_alone(op: FixedLinear, name: str) -> Any:
    """A graph of ``op``'s ``x @ W^T`` alone, as machop writes it: a zero bias and an output format that
    holds every accumulator code, so the layer module is its products and wires."""
    zero = torch.zeros(op.weight.shape[0], dtype=torch.int64)
    lo, hi = linear_bounds(op.weight, zero, op.in_format, 0)
    acc = accumulator_format(name, lo, hi, op.in_format.frac + op.weight_format.frac)
    alone = FixedLinear(op.weight, zero, op.in_format, op.weight_format, acc, acc)
    return trace(nn.Sequential(FixedInput(op.in_format), alone), leaf_modules=[HardwareOp])


def run_machop_alone(prepared: Any, work: Path) -> dict[str, Any]:
    """machop's own products of every linear layer's weights, through the same Yosys command."""
    luts = carry4 = 0
    emit = synth = 0.0
    layers = []
    for name, op in prepared.named_modules():
        if not isinstance(op, FixedLinear):
            continue
        module = name.replace(".", "_")
        started = time.perf_counter()
        design = emit_rtl(products_alone(op, module), work / module / "rtl", pipeline="none")
        emit += time.perf_counter() - started
        started = time.perf_counter()
        report = synthesize(design.files, design.top_name, work / module / "synth")
        synth += time.perf_counter() - started
        luts, carry4 = luts + report.total.luts, carry4 + report.total.carry4
        layers.append({"module": module, "luts": report.total.luts})
    return {"luts": luts, "carry4": carry4, "emit_s": round(emit, 2), "synth_s": round(synth, 2),
            "weights_to_report_s": round(emit + synth, 2), "layers": layers}


def run_point(name: str, model: nn.Module, point: str, work: Path, float_accuracy: float,
              train_seconds: float) -> dict[str, Any]:
    data = load_dataset("jsc-pythia")
    x, y = torch.from_numpy(data.x_test), torch.from_numpy(data.y_test).long()
    prepared, quantised = prepared_graph(model, point, x)
    with torch.no_grad():
        prepared_scores = prepared(x)
    reference = integer_reference(prepared, x)
    record: dict[str, Any] = {"model": name, "point": point, "rows": len(x), "train_s": round(train_seconds, 1),
                              "float_accuracy": float_accuracy, "quantised_accuracy": accuracy(quantised, y),
                              "prepared_accuracy": accuracy(prepared_scores, y)}
    for key, (_, options) in DESIGNS.items():
        record[key] = run_design(prepared, options, work / key, x, y, reference)
        print(f"  {key}: {record[key]}", flush=True)
    record["da4ml_alone"] = run_da4ml_alone(prepared, work / "da4ml-alone")
    print(f"  da4ml alone: {record['da4ml_alone']}", flush=True)
    record["machop_alone"] = run_machop_alone(prepared, work / "machop-alone")
    print(f"  machop alone: {record['machop_alone']}", flush=True)
    return record


def table(records: list[dict[str, Any]]) -> str:
    """The Markdown tables of RESULTS.md: cost and times per design, then the ratios."""
    lines = ["| model | point | design | LUTs | linear LUTs | FFs | CARRY4 | DSPs | levels | latency | emit s | "
             "sim build + run s | synth s | mismatches | RTL acc. |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        for key, (label, _) in DESIGNS.items():
            d = r[key]
            lines.append(f"| {r['model']} | {r['point']} | {label} | {d['luts']:,} | {d['linear_luts']:,} | "
                         f"{d['ffs']:,} | {d['carry4']:,} | {d['dsps']} | {d['logic_levels']} | {d['latency']} | "
                         f"{d['emit_s']:.1f} | {d['sim_build_s']:.1f} + {d['sim_run_s']:.1f} | {d['synth_s']:.1f} | "
                         f"{d['mismatched_rows']} | {100 * d['rtl_accuracy']:.2f} % |")
        a, o = r["da4ml_alone"], r["machop_alone"]
        lines.append(f"| {r['model']} | {r['point']} | da4ml alone (x @ W^T only) | {a['luts']:,} | {a['luts']:,} | "
                     f"{a['ffs']} | {a['carry4']:,} | 0 | | | {a['solve_s']:.1f} (solve) | | {a['synth_s']:.1f} | | |")
        lines.append(f"| {r['model']} | {r['point']} | machop alone (x @ W^T only) | {o['luts']:,} | {o['luts']:,} | "
                     f"0 | {o['carry4']:,} | 0 | | | {o['emit_s']:.1f} | | {o['synth_s']:.1f} | | |")
    lines += ["", "| model | point | float acc. | quantised | prepared | RTL | machop alone / da4ml alone | "
              "machop linear LUTs / da4ml alone | CSD rows linear LUTs / da4ml alone | "
              "machop / machop+da4ml (linear LUTs) | machop / machop+da4ml (total LUTs) | "
              "flow time machop / da4ml alone |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        m, c, d, a, o = r["machop"], r["machop_csd"], r["da4ml"], r["da4ml_alone"], r["machop_alone"]
        lines.append(f"| {r['model']} | {r['point']} | {100 * r['float_accuracy']:.2f} % | "
                     f"{100 * r['quantised_accuracy']:.2f} % | {100 * r['prepared_accuracy']:.2f} % | "
                     f"{100 * m['rtl_accuracy']:.2f} % | {o['luts'] / max(a['luts'], 1):.3f} | "
                     f"{m['linear_luts'] / max(a['luts'], 1):.2f} | "
                     f"{c['linear_luts'] / max(a['luts'], 1):.2f} | {m['linear_luts'] / d['linear_luts']:.2f} | "
                     f"{m['luts'] / d['luts']:.2f} | "
                     f"{m['weights_to_report_s'] / a['weights_to_report_s']:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--points", nargs="+", default=list(POINTS), choices=list(POINTS))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("benchmarks/.hardware-work"))
    parser.add_argument("--results", type=Path, default=Path("benchmarks/hardware_results.jsonl"))
    parser.add_argument("--table", action="store_true", help="print the tables of --results and stop")
    args = parser.parse_args()
    if args.table:
        print(table([json.loads(line) for line in args.results.read_text().splitlines() if line.strip()]))
        return
    torch.set_num_threads(1)
    work = args.work.resolve()  # simulate() runs its program from the simulation directory
    data = load_dataset("jsc-pythia")
    x, y = torch.from_numpy(data.x_test), torch.from_numpy(data.y_test).long()
    for name in args.models:
        model, seconds = train(name, args.epochs)
        with torch.no_grad():
            float_accuracy = accuracy(model(x), y)
        print(f"{name}: trained {args.epochs} epochs in {seconds:.0f} s, float accuracy {100 * float_accuracy:.2f} %",
              flush=True)
        for k, point in enumerate(args.points):
            print(f"{name} / {point}", flush=True)
            record = run_point(name, model, point, work / name / f"point{k}", float_accuracy, seconds)
            with args.results.open("a") as out:
                out.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
