"""``ch test MODEL DATASET --load CKPT``: test-split accuracy, loss, per-class accuracy, confusion matrix."""

from __future__ import annotations

import argparse

COMMAND = ("test",)
HELP = "evaluate a checkpoint on the test split: test_acc_epoch, test_loss_epoch, per-class accuracy, confusion matrix"


def configure(parser: argparse.ArgumentParser) -> None:
    from chop.config.mase_args import add_mase_arguments

    add_mase_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout only")


def run(args: argparse.Namespace) -> int:
    from chop.tools.runtime import configure_threads

    configure_threads()
    import json

    import torch
    from chop.tools.console import console
    from rich.table import Table

    from chop.actions._training import prepare
    from chop.engine.evaluation import classification_report
    from chop.errors import ConfigError
    from chop.models import with_checkpoint

    resolved, data, build = prepare(args, action="test")
    settings = resolved.args
    if not settings.load_name:
        raise ConfigError("ch test needs a checkpoint: pass --load PATH (best.ckpt, a .pt state_dict or a .mz graph)")
    torch.manual_seed(settings.seed)
    model = with_checkpoint(build(), settings.load_name, settings.load_type)
    report = classification_report(model, data.x_test, data.y_test, data.info.class_names)
    if args.json:
        print(json.dumps(report.as_json()))
        return 0
    out = console()
    metrics = Table(title=f"Test split of {settings.dataset} ({len(data.y_test)} rows)")
    metrics.add_column("metric")
    metrics.add_column("value", justify="right")
    metrics.add_row("test_acc_epoch", f"{report.test_acc_epoch:.4f}")
    metrics.add_row("test_loss_epoch", f"{report.test_loss_epoch:.4f}")
    for name, acc in zip(report.class_names, report.per_class_accuracy):
        metrics.add_row(f"accuracy of class {name}", "n/a (absent)" if acc != acc else f"{acc:.4f}")
    out.print(metrics)
    confusion = Table(title="Confusion matrix (rows: true class, columns: predicted)")
    confusion.add_column("true \\ predicted")
    for name in report.class_names:
        confusion.add_column(name, justify="right")
    for name, row in zip(report.class_names, report.confusion.tolist()):
        confusion.add_row(name, *(str(v) for v in row))
    out.print(confusion)
    return 0
