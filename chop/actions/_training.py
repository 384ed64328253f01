"""What ``ch train`` and ``ch test`` share: argument resolution, data, model and result tables."""

from __future__ import annotations

import argparse
import dataclasses
from functools import partial
from pathlib import Path
from typing import Any


def saved_graph(load_name: str | None, load_type: str | None) -> bool:
    """Whether ``--load`` names a saved graph (``.mz``), which carries its own model."""
    if not load_name:
        return False
    return load_type == "mz" or (load_type is None and Path(load_name).suffix == ".mz")


def prepare(args: argparse.Namespace, action: str) -> tuple[Any, Any, Any]:
    """Resolve flags + TOML, print the effective-arguments table, build the model factory, load data."""
    resolved, build = resolve(args, action)
    return resolved, load_data(resolved), build


def load_data(resolved: Any) -> Any:
    """The dataset the resolved arguments name (the slow step: an action checks its own TOML tables first)."""
    from chop.dataset import load_dataset

    return load_dataset(resolved.args.dataset, resolved.args.data_path)


def resolve(args: argparse.Namespace, action: str) -> tuple[Any, Any]:
    """Resolve flags + TOML, print the effective-arguments table and build the model factory.

    With ``--load`` of a ``.mz`` graph MODEL is optional: the graph is the model; given, it must match.
    """
    from chop.tools.console import console

    from chop.config.mase_args import render_arguments_table, resolve_mase_args
    from chop.dataset import get_dataset_info, known_datasets
    from chop.errors import ConfigError
    from chop.models import known_models, model_builder, model_source
    from chop.models.builder import ModelFile
    from chop.tools.checkpoint_load import load_model
    from chop.tools.logger import set_logging_verbosity

    resolved = resolve_mase_args(args)
    settings = resolved.args
    name, model_file = model_source(settings.model, settings.model_file)  # MODEL may read FILE.py:Class
    settings = dataclasses.replace(settings, model=name, model_file=model_file)
    graph = saved_graph(settings.load_name, settings.load_type)
    if settings.dataset is None and settings.model in known_datasets() and settings.model not in known_models():
        # `ch train jsc --model-file f.py:Net`, `ch test jsc --load g.mz`: a lone positional naming a
        # dataset, not a model, is the dataset (so a missing model is reported as such)
        settings = dataclasses.replace(settings, model=None, dataset=settings.model)
    if settings.model_file and settings.model is None:
        # names the default project `{model}_{task}_{dataset}_{date}`; the file still builds the model
        settings = dataclasses.replace(settings, model=ModelFile.parse(settings.model_file).class_name)
    resolved = dataclasses.replace(resolved, args=settings)
    set_logging_verbosity(settings.log_level)
    if settings.model is None and settings.model_file is None and not graph:
        raise ConfigError(f"ch {action}: no model given; pass MODEL (e.g. jsc-tiny) or set `model` in the TOML")
    if settings.dataset is None:
        why = " (a saved graph does not record its dataset)" if graph else ""
        raise ConfigError(f"ch {action}: no dataset given{why}; pass DATASET (e.g. jsc-pythia) "
                          "or set `dataset` in the TOML")
    info = get_dataset_info(settings.dataset)
    if settings.model is None and settings.model_file is None:
        build = partial(load_model, settings.load_name, "mz")  # a saved graph is its own model
        settings = dataclasses.replace(settings, model=Path(settings.load_name).stem)  # names the default project
    else:
        build = model_builder(settings.model, settings.model_file, info)
    resolved = dataclasses.replace(resolved, args=settings)
    console(stderr=getattr(args, "json", False)).print(render_arguments_table(resolved.rows))
    return resolved, build


def final_table(outcome: Any) -> Any:
    """The metrics of the last epoch and the test split of the best checkpoint, as a rich Table."""
    from rich.table import Table

    last = outcome.history[-1]
    table = Table(title="Final metrics")
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = [("epoch", str(last.epoch)), ("global_step", str(last.global_step)),
            ("train_acc_step", f"{last.train_acc_step[0]:.4f}"), ("train_loss_step", f"{last.train_loss_step[0]:.4f}"),
            ("val_acc_epoch", f"{last.val_acc_epoch[0]:.4f}"), ("val_loss_epoch", f"{last.val_loss_epoch[0]:.4f}"),
            ("best epoch (lowest val_loss_epoch)", str(outcome.best_epoch)),
            ("test_acc_epoch (best.ckpt)", f"{outcome.test_acc_epoch:.4f}"),
            ("test_loss_epoch (best.ckpt)", f"{outcome.test_loss_epoch:.4f}"),
            ("seconds per epoch", f"{sum(r.seconds for r in outcome.history) / len(outcome.history):.2f}"),
            ("engine path", outcome.path)]
    for name, value in rows:
        table.add_row(name, value)
    return table


def outcome_json(outcome: Any) -> dict[str, Any]:
    last = outcome.history[-1]
    return {
        "epoch": last.epoch, "global_step": last.global_step,
        "train_acc_step": last.train_acc_step[0], "train_loss_step": last.train_loss_step[0],
        "val_acc_epoch": last.val_acc_epoch[0], "val_loss_epoch": last.val_loss_epoch[0],
        "test_acc_epoch": outcome.test_acc_epoch, "test_loss_epoch": outcome.test_loss_epoch,
        "best_epoch": outcome.best_epoch, "best_checkpoint": str(outcome.best_checkpoint),
        "last_checkpoint": str(outcome.last_checkpoint), "tensorboard_dir": str(outcome.tensorboard_dir),
        "metrics_csv": str(outcome.metrics_csv), "engine_path": outcome.path,
    }
