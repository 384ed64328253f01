"""Beyond lab 4: which widths and weight precisions of jsc-three-linear buy accuracy per LUT.

Reads the ``log.json`` of ``ch search ... --config docs/lab4-study/width_and_precision.toml``
(every hidden width x each linear's weight width, accuracy and estimated LUTs as objectives),
prints the Pareto set with its Yosys LUTs and each architecture's best point, and draws accuracy
against estimated LUTs, one colour per architecture.

    python docs/lab4-study/width_precision.py SEARCH_CKPTS [docs/lab4-study/width_precision.png]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from statistics import median

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from chop.search.plots import pareto_front  # noqa: E402
from chop.tools.atomic import atomic_save_png  # noqa: E402

LINEARS = ("seq_blocks_2", "seq_blocks_4", "seq_blocks_6")


def candidates(log: Path) -> list[dict]:
    """Each completed trial: its hidden width, weight widths, accuracy and hardware metrics."""
    found = []
    for entry in sorted(json.loads(log.read_text()).values(), key=lambda e: e["number"]):
        if entry["state"] != "COMPLETE":
            continue
        config = entry["user_attrs_sampled_config"]
        found.append({"number": entry["number"],
                      "width": int(16 * config["channel_multiplier"]["seq_blocks_2"]),
                      "weights": tuple(config["quantize"][n]["config"]["weight_width"] for n in LINEARS),
                      "accuracy": entry["user_attrs_software_metrics"]["accuracy"],
                      **entry["user_attrs_hardware_metrics"]})
    return found


def main(ckpts: Path, plot: Path) -> None:
    found = candidates(ckpts / "log.json")
    front = set(pareto_front([(c["luts"], c["accuracy"]) for c in found]))
    print(f"{len(found)} candidates; Pareto set of accuracy and estimated LUTs:\n")
    print("| hidden width | weight widths | accuracy | LUTs (estimate) | LUTs (Yosys) | FFs (estimate) | latency |")
    print("|---|---|---|---|---|---|---|")
    seen = set()
    for c in sorted(found, key=lambda c: c["luts"]):
        if (c["luts"], c["accuracy"]) in front and (c["luts"], c["accuracy"]) not in seen:
            seen.add((c["luts"], c["accuracy"]))
            yosys = f"{c['yosys_luts']:,.0f}" if "yosys_luts" in c else ""
            print(f"| {c['width']} | {'/'.join(map(str, c['weights']))} | {c['accuracy']:.4f} | {c['luts']:,.0f} "
                  f"| {yosys} | {c['ffs']:,.0f} | {c['latency_cycles']:.0f} |")
    ratios = sorted(c["luts"] / c["yosys_luts"] for c in found if c.get("yosys_luts"))
    if ratios:
        print(f"\nestimate / Yosys over the {len(ratios)} synthesised designs: median {median(ratios):.3f}, "
              f"{ratios[0]:.3f} to {ratios[-1]:.3f}")
    print("\n| hidden width | best accuracy | its weight widths | its LUTs (estimate) |")
    print("|---|---|---|---|")
    widths = sorted({c["width"] for c in found})
    for width in widths:
        best = max((c for c in found if c["width"] == width), key=lambda c: (c["accuracy"], -c["luts"]))
        print(f"| {width} | {best['accuracy']:.4f} | {'/'.join(map(str, best['weights']))} | {best['luts']:,.0f} |")
    figure, axis = plt.subplots(figsize=(7, 4.5))
    for colour, width in enumerate(widths):
        members = [c for c in found if c["width"] == width]
        axis.scatter([c["luts"] for c in members], [c["accuracy"] for c in members], s=10, color=f"C{colour}",
                     label=f"16-{width}-{width}-5")
    ordered = sorted(front)
    axis.step([p[0] for p in ordered], [p[1] for p in ordered], where="post", color="black", linewidth=1,
              label="Pareto front")
    axis.set_xscale("log")
    axis.set_xlabel("estimated LUTs (synth_xilinx -nodsp)")
    axis.set_ylabel("validation accuracy")
    axis.set_title("jsc-three-linear without the last ReLU: width x weight precision")
    axis.grid(alpha=0.3)
    axis.legend(loc="lower right", fontsize=8)
    atomic_save_png(figure, plot)
    print(f"\nplot: {plot}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2] if len(sys.argv) > 2 else "docs/lab4-study/width_precision.png"))
