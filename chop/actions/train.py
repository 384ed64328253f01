"""``ch train MODEL DATASET``: MASE's train action on machop's engine."""

from __future__ import annotations

import argparse

COMMAND = ("train",)
HELP = "train a model; checkpoints, TensorBoard logs and metrics.csv go under {project_dir}/{project}/software/"


def configure(parser: argparse.ArgumentParser) -> None:
    from chop.config.mase_args import add_mase_arguments

    add_mase_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the final metrics as JSON on stdout only")


def run(args: argparse.Namespace) -> int:
    from chop.tools.runtime import configure_threads

    configure_threads()
    import datetime
    import json

    from chop.tools.console import console

    from chop.actions._training import final_table, outcome_json, prepare
    from chop.workflows.training import run_training

    resolved, data, build = prepare(args, action="train")
    settings = resolved.args
    out = console(stderr=args.json)
    software_dir = settings.software_dir(datetime.date.today().isoformat())
    outcome = run_training(settings, data, build, software_dir, progress=True)
    if args.json:
        print(json.dumps(outcome_json(outcome)))
    else:
        out.print(final_table(outcome))
        out.print(f"checkpoints: {outcome.best_checkpoint} (best, epoch {outcome.best_epoch}), {outcome.last_checkpoint}",
                  soft_wrap=True)
        out.print(f"logs: {outcome.tensorboard_dir}, {outcome.metrics_csv}", soft_wrap=True)
    return 0
