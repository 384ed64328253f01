"""What ``ch transform`` and ``ch search`` share: the flags they take and the model they work on."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from chop.tools.logger import get_logger

log = get_logger(__name__)

# The MASE flags that change what ch transform / ch search do, with what they do there. The others
# (training flags such as --max-epochs, hardware flags) are still accepted, so MASE's command lines
# (lab 2: `--task cls --cpu=0`) run unchanged, but they are left out of --help and warned about.
USED_FLAGS = {
    "task": "the task; machop knows cls (classification)",
    "load_name": "trained weights: a .ckpt of ch train, a state-dict .pt, or a saved graph (.mz or its folder); "
                 "without it the model is untrained",
    "load_type": "how to read --load: pt, pl (Lightning .ckpt) or mz (saved graph); guessed when left out",
    "seed": "seeds the fresh model made without --load, and the sampler of ch search (default 0)",
    "log_level": "how much is logged to stderr (default info)",
    "project_dir": "outputs go under DIR/PROJECT/software/ (default ./mase_output)",
    "project": "the project folder (default MODEL_TASK_DATASET_DATE)",
    "data_path": "dataset file or directory (machop)",
    "model_file": "a model class in your own file, the same as MODEL FILE.py:Class (machop)",
}


def add_graph_action_arguments(parser: argparse.ArgumentParser) -> None:
    """``[MODEL] [DATASET]`` and every MASE flag; only those in ``USED_FLAGS`` are shown in ``--help``."""
    from chop.config.mase_args import MASE_FLAGS

    parser.add_argument("model", nargs="?", default=None, help="model name or FILE.py:Class (or `model` in the TOML)")
    parser.add_argument("dataset", nargs="?", default=None, help="dataset name (or `dataset` in the TOML)")
    for flags, dest, kwargs in MASE_FLAGS:
        shown = USED_FLAGS.get(dest, argparse.SUPPRESS)
        parser.add_argument(*flags, dest=dest, default=None, **{**kwargs, "help": shown})


def warn_unused_flags(args: argparse.Namespace, action: str) -> None:
    """One line per flag given on the command line that ``ch {action}`` does not use (MASE accepts them all)."""
    from chop.config.mase_args import MASE_FLAGS, NO_EFFECT

    for flags, dest, _ in MASE_FLAGS:
        if dest not in USED_FLAGS and dest not in NO_EFFECT and getattr(args, dest, None) is not None:
            log.warning("`%s` has no effect on ch %s; it is a flag of ch train and ch test", flags[0], action)


def initial_model(build: Callable[[], Any], settings: Any, action: str) -> Any:
    """The model to transform or search: ``--load``'s weights, else a fresh model seeded with ``--seed``.

    Seeding before building makes a run without ``--load`` the same in every process (an unseeded
    fresh model made two ``ch search`` runs disagree); the warning says that its weights are untrained.
    """
    import torch

    from chop.models import with_checkpoint

    torch.manual_seed(settings.seed)
    model = build()
    if settings.load_name:
        return with_checkpoint(model, settings.load_name, settings.load_type)
    log.warning("ch %s: no --load given, so the model has untrained (random) weights; "
                "pass --load CKPT (e.g. a best.ckpt of ch train) to work on a trained model", action)
    return model
