"""Draw ``docs/hardware/accuracy_vs_luts.png``: jsc-toy's RTL accuracy against its LUTs, weights 2..8 bits.

The JSON and the plot are rewritten after each width, so a run cut short keeps what it measured.

Run from the repository root: ``.venv/bin/python docs/hardware/accuracy_vs_luts.py``. jsc-toy is
trained as ``benchmarks/hardware.py`` trains it (jsc-pythia, 5 epochs, batch 256, learning rate
1e-3, seed 0), then quantised at each weight width ``w`` (fraction bits ``w - 2``: weights in
``[-2, 2)``; data and biases integer 8/4), prepared, emitted with machop's own constant products
(the default ``"shared"`` style) and with da4ml's row sums, run through Verilator on the whole test split (the accuracy is the RTL's; any
mismatch against the integer reference stops the script) and synthesised by Yosys
(``synth_xilinx``). The figures also go to ``accuracy_vs_luts.json`` beside the plot.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from hardware import accuracy, integer, train  # noqa: E402  (benchmarks/hardware.py)

from chop.dataset import load_dataset  # noqa: E402
from chop.hardware.ops import FixedInput  # noqa: E402
from chop.hardware.prepare import prepare  # noqa: E402
from chop.hardware.reference import integer_reference  # noqa: E402
from chop.hardware.rtl import emit_rtl  # noqa: E402
from chop.hardware.simulate import simulate  # noqa: E402
from chop.hardware.synth import synthesize  # noqa: E402
from chop.passes.graph.transforms import quantize_transform_pass  # noqa: E402
from chop.workflows.transform import graph_with_metadata  # noqa: E402

WIDTHS = (2, 3, 4, 5, 6, 8)
EPOCHS = 5
HERE = Path(__file__).resolve().parent
WORK = ROOT / "benchmarks" / ".hardware-work" / "accuracy-vs-luts"


def measure() -> None:
    data = load_dataset("jsc-pythia")
    x, y = torch.from_numpy(data.x_test), torch.from_numpy(data.y_test).long()
    model, _ = train("jsc-toy", EPOCHS)
    with torch.no_grad():
        figures: dict = {"float_accuracy": accuracy(model(x), y), "points": []}
    for width in WIDTHS:
        graph = graph_with_metadata(model, x[:2])
        graph, _ = quantize_transform_pass(graph, {"by": "type",
                                                   "default": {"config": integer((8, 4), (width, width - 2))}})
        prepared = prepare(graph.model).module
        reference = integer_reference(prepared, x)
        codes = next(m for m in prepared.modules() if isinstance(m, FixedInput)).integer_forward(x)
        point = {"weight_width": width, "weight_frac": width - 2}
        for impl in ("machop", "da4ml"):
            work = WORK / f"w{width}-{impl}"
            design = emit_rtl(prepared, work / "rtl", linear_impl=impl)
            outputs = simulate(design, codes, work / "sim").outputs
            if not torch.equal(outputs, reference):
                raise SystemExit(f"weights {width} bits, {impl}: the RTL differs from the integer reference")
            report = synthesize(design.files, design.top_name, work / "synth")
            point[impl] = {"luts": report.total.luts, "rtl_accuracy": accuracy(outputs, y)}
        print(point, flush=True)
        figures["points"].append(point)
        (HERE / "accuracy_vs_luts.json").write_text(json.dumps(figures, indent=1) + "\n")
        plot(figures, HERE / "accuracy_vs_luts.png")


def plot(figures: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for impl, label, marker in (("machop", "machop (shared adder graphs)", "o"), ("da4ml", "machop + da4ml row sums", "s")):
        luts = [p[impl]["luts"] for p in figures["points"]]
        acc = [100 * p[impl]["rtl_accuracy"] for p in figures["points"]]
        ax.plot(luts, acc, marker=marker, label=label)
        if impl == "machop":
            for p, lx, ly in zip(figures["points"], luts, acc):
                ax.annotate(f"{p['weight_width']}b", (lx, ly), textcoords="offset points", xytext=(4, -10), fontsize=8)
    ax.axhline(100 * figures["float_accuracy"], color="grey", linestyle="--", label="float model")
    ax.set_xscale("log")
    ax.set_xlabel("LUTs (Yosys 0.23 synth_xilinx, 7-series LUT6)")
    ax.set_ylabel("accuracy on jsc-pythia's test split (%)")
    ax.set_title("jsc-toy, data 8/4, weights 2-8 bits: RTL accuracy against LUTs")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    torch.set_num_threads(1)
    measure()


if __name__ == "__main__":
    main()
