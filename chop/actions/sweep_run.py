"""``ch sweep run FILE``: train every run of a sweep (grid × repeats), resuming from its store."""

from __future__ import annotations

import argparse
import json
import sys

COMMAND = ("sweep", "run")
HELP = "train a sweep (grid x repeats) from a TOML file; reruns resume from DIR/NAME/sweep.sqlite"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", metavar="FILE.toml", help="the sweep file (or --config FILE.toml)")
    parser.add_argument("--project-dir", metavar="DIR", help="outputs go to DIR/NAME/ (default: the file's "
                        "project_dir, else ./mase_output)")
    parser.add_argument("--data-path", metavar="PATH", help="dataset file or directory (overrides the file)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=int, default=1, metavar="N",
                       help="train N groups at once in worker processes (one per core; default 1: in this process)")
    where.add_argument("--ray", metavar="ADDRESS", help="send groups to the Ray cluster at ADDRESS (host:port)")
    parser.add_argument("--ray-timeout", type=int, default=None, metavar="SECONDS",
                        help="give up connecting to the Ray cluster after SECONDS (default 30)")
    parser.add_argument("--resume", action="store_true", help="only continue an existing store (every rerun resumes; "
                        "with --resume a missing DIR/NAME/sweep.sqlite is an error instead of a new sweep)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON on stdout, nothing else")


def _sweep_file(args: argparse.Namespace) -> str:
    from chop.errors import ConfigError

    if args.file and args.config and args.file != args.config:
        raise ConfigError(f"two sweep files given ({args.file} and --config {args.config}); give one")
    path = args.file or args.config
    if not path:
        raise ConfigError("no sweep file; use `ch sweep run FILE.toml` (or --config FILE.toml)")
    return path


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from chop.dataset import load_dataset
    from chop.errors import ConfigError
    from chop.sweep import (STORE_NAME, InProcessBackend, ProcessBackend, SweepStore, format_plan, load_sweep,
                            plan_groups, run_sweep, write_report)
    from chop.tools.runtime import configure_threads

    if args.jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {args.jobs}")
    if args.ray_timeout is not None and (args.ray is None or args.ray_timeout < 1):
        raise ConfigError(f"--ray-timeout {args.ray_timeout}: needs --ray ADDRESS and at least 1 second")
    overrides = {key: value for key, value in (("project_dir", args.project_dir), ("data_path", args.data_path))
                 if value is not None}
    sweep = load_sweep(_sweep_file(args), overrides)
    from chop.models import get_model_info, model_source

    names = {model_source(c.args.model, c.args.model_file)[0] for c in sweep.configurations}
    for name in sorted(names - {None}):
        get_model_info(name)  # an unknown model fails here, before any data is loaded
    directory = Path(sweep.base.project_dir) / sweep.name
    if args.resume and not (directory / STORE_NAME).is_file():
        raise ConfigError(f"--resume: no results store {directory / STORE_NAME} to continue; check `name` and "
                          "--project-dir, or run without --resume to start the sweep")
    configure_threads()
    out = sys.stderr if args.json else sys.stdout
    say = lambda line: print(line, file=out, flush=True)  # noqa: E731

    data = load_dataset(sweep.base.dataset, sweep.base.data_path)
    definition = {**sweep.definition(), "data_sha256": data.provenance.get("sha256")}
    with SweepStore.create_or_open(directory, definition, sweep.swept_keys) as store:
        say(f"sweep '{sweep.name}': {len(sweep.configurations)} configurations x {sweep.repeats} repeats, "
            f"batch order {sweep.batch_order}, store {store.path}")
        say(format_plan(plan_groups(sweep.runs()), len(data.x_train), store.finished_keys()))
        if args.ray:
            from chop.sweep.ray_backend import DEFAULT_CONNECT_TIMEOUT_S, RayBackend

            backend = RayBackend(args.ray, connect_timeout_s=args.ray_timeout or DEFAULT_CONNECT_TIMEOUT_S)
        elif args.jobs > 1:
            backend = ProcessBackend(args.jobs)
        else:
            backend = InProcessBackend(progress=not args.json)
        outcome = run_sweep(sweep, data, store, backend, say)
        report = write_report(store, directory)
    say(f"trained {outcome.trained} runs in {outcome.seconds:.1f} s, {outcome.skipped} already finished")
    if args.json:
        print(json.dumps({**report.as_json(), "trained": outcome.trained, "skipped": outcome.skipped,
                          "seconds": outcome.seconds}))
    else:
        from chop.actions._sweep_table import print_results

        print_results(report)
    return 0
