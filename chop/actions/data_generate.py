"""``ch data generate-jsc``: make a JSC-like sample offline with Pythia 8 + FastJet."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chop.dataset.generator import GeneratorOptions

COMMAND = ("data", "generate-jsc")
HELP = "generate JSC jets with Pythia 8 + FastJet (needs machop[physics])"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--per-class", type=int, required=True, metavar="N", help="jets per class (5 classes)")
    parser.add_argument("--seed", type=int, required=True, metavar="S", help="master seed; chunk seeds derive from it")
    parser.add_argument("--out", required=True, metavar="FILE.parquet", help="output parquet (+ FILE.provenance.json)")
    parser.add_argument("--workers", type=int, default=1, metavar="K", help="worker processes (output does not depend on K)")
    parser.add_argument("--radius", type=float, default=0.4, metavar="R", help="anti-kT radius (default 0.4)")
    parser.add_argument("--pt-min", type=float, default=0.0, metavar="GEV", help="leading-jet pT lower bound (default none)")
    parser.add_argument("--pt-max", type=float, default=0.0, metavar="GEV", help="leading-jet pT upper bound (0: none)")
    parser.add_argument("--decay-route", choices=["isotropic", "internal"], default="isotropic",
                        help="W/Z/t decays: isotropic second pass (original chain) or Pythia's spin-correlated ones")
    parser.add_argument("--bw-cutoff", type=float, default=15.0, metavar="K",
                        help="W/Z/t masses within m0 +- K widths, as MadGraph's bwcutoff (0: Pythia's defaults)")
    parser.add_argument("--stable-ctau", type=float, default=None, metavar="MM",
                        help="hadrons with c*tau above MM mm stay undecayed, as in the experiments "
                             "(default 10 at particle level, 0 = Pythia decays all, as --level detector needs)")
    parser.add_argument("--resonances", choices=["window", "on-shell"], default="on-shell",
                        help="the hard process's W/Z/t: on-shell (default; m0 +- 0.001 widths, as MadGraph's external "
                             "resonances; the top's W keeps --bw-cutoff) or within --bw-cutoff widths")
    parser.add_argument("--gluon-pthat-max", type=float, default=0.0, metavar="GEV",
                        help="upper pTHat cut of the gluon sample's hard process (default 0: none; 1005: the other classes')")
    parser.add_argument("--z-decays", choices=["udscb", "udsc"], default="udsc",
                        help="quarks the Z decays to (default udsc: no Z -> bb)")
    parser.add_argument("--min-groomed-constituents", type=int, default=3, metavar="N",
                        help="drop jets whose mMDT jet has fewer than N constituents, counted in the provenance "
                             "(default 3, as the real files; 1: keep all)")
    parser.add_argument("--level", choices=["particle", "detector"], default="detector",
                        help="jets from the emulated detector objects of --detector (default, as the real dataset) or from the particles")
    parser.add_argument("--detector", default="r0.5:h0.010:e0.005:t220", metavar="CONFIG",
                        help="detector emulation: smearing scale r, HCAL/ECAL cell sizes h/e, track pT limit t GeV "
                             "(default r0.5:h0.010:e0.005:t220, the original production's)")
    parser.add_argument("--chunk-size", type=int, default=500, metavar="N", help="jets per seeded chunk")
    parser.add_argument("--json", action="store_true", help="print the provenance record as JSON")


def canonical_command(args: argparse.Namespace, options: GeneratorOptions) -> list[str]:
    """The command with every option spelt out, so the provenance replays exactly."""
    return [
        "ch", "data", "generate-jsc", "--per-class", str(args.per_class), "--seed", str(args.seed),
        "--out", str(args.out), "--workers", str(args.workers), "--radius", repr(args.radius),
        "--pt-min", repr(args.pt_min), "--pt-max", repr(args.pt_max), "--decay-route", args.decay_route,
        "--bw-cutoff", repr(args.bw_cutoff), "--stable-ctau", repr(options.stable_ctau_mm),
        "--chunk-size", str(args.chunk_size), "--resonances", args.resonances,
        "--gluon-pthat-max", repr(args.gluon_pthat_max), "--z-decays", args.z_decays,
        "--min-groomed-constituents", str(args.min_groomed_constituents), "--level", args.level,
        "--detector", str(options.detector),
    ]


def run(args: argparse.Namespace) -> int:
    import json
    import sys
    import time
    from pathlib import Path

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from chop.dataset.generator import CLASSES, DetectorConfig, GeneratorOptions, JetSelection, generate
    from chop.dataset.generator.output import provenance_path, write_parquet, write_provenance
    from chop.errors import DataError
    from chop.tools.atomic import ensure_writable

    options = GeneratorOptions(
        per_class=args.per_class,
        seed=args.seed,
        selection=JetSelection(radius=args.radius, pt_min=args.pt_min, pt_max=args.pt_max),
        decay_route=args.decay_route,
        bw_cutoff=args.bw_cutoff,
        stable_ctau_mm=args.stable_ctau,  # None: the level's own
        chunk_size=args.chunk_size,
        resonances=args.resonances,
        gluon_pt_hat_max=args.gluon_pthat_max,
        z_decays=args.z_decays,
        min_groomed_constituents=args.min_groomed_constituents,
        level=args.level,
        detector=DetectorConfig.parse(args.detector),
    )
    options.validate()
    out = Path(args.out)
    for target in (out, provenance_path(out)):  # generation takes minutes: check the outputs first
        if target.is_dir():
            raise DataError(f"--out {target} is a directory; give a file name such as {target / 'jets.parquet'}")
    ensure_writable(out.parent)
    start = time.monotonic()
    columns_progress = [BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    # the bar goes to stderr and only to a terminal, so logs and --json output stay clean
    with Progress(*columns_progress, console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("jets", total=options.per_class * len(CLASSES))
        sample = generate(options, workers=args.workers, progress=lambda done, total: bar.update(task, completed=done))
    write_parquet(sample.columns, out)
    record = write_provenance(out, canonical_command(args, options), options.as_dict(), args.workers,
                              len(sample.columns["label"]), time.monotonic() - start, sample.dropped)
    if args.json:
        print(json.dumps(record, indent=2))
    else:
        print(f"wrote {record['rows']} jets to {out} in {record['seconds']} s (seed {args.seed})")
    return 0
