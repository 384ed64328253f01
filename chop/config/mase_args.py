"""MASE's top-level arguments: defaults, flags, TOML keys and their precedence.

Precedence is built-in default < TOML < explicit flag (lab-api §1). Flags are registered with a
``None`` default so that "given on the command line" can be told apart from "left at default".
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chop.config.toml_file import load_toml
from chop.engine.types import BATCH_ORDERS, OPTIMIZERS
from chop.errors import ConfigError
from chop.tools.checkpoint_load import LOAD_TYPES
from chop.tools.options import Options, Wording

log = logging.getLogger(__name__)

ACCELERATORS = ("auto", "cpu", "gpu")
TASKS = ("classification",)

# Tables a TOML may hold for other actions; each action reads its own and ignores the rest.
SECTION_KEYS = ("hardware", "passes", "search", "transform")


@dataclass(frozen=True)
class MaseArgs:
    """The effective arguments of one MASE action (train, test, transform, search)."""

    model: str | None = None
    dataset: str | None = None
    task: str = "classification"
    load_name: str | None = None
    load_type: str | None = None
    batch_size: int = 128
    to_debug: bool = False
    log_level: str = "info"
    report_to: str = "tensorboard"
    seed: int = 0
    quant_config: str | None = None
    training_optimizer: str = "adam"
    trainer_precision: str = "16-mixed"
    learning_rate: float = 1e-5
    weight_decay: float = 0.0
    max_epochs: int = 20
    max_steps: int = -1
    accumulate_grad_batches: int = 1
    log_every_n_steps: int = 50
    num_workers: int = 0
    num_devices: int = 1
    num_nodes: int = 1
    accelerator: str = "auto"
    strategy: str = "auto"
    is_to_auto_requeue: bool = False
    github_ci: bool = False
    disable_dataset_cache: bool = False
    target: str = "xcu250-figd2104-2L-e"
    num_targets: int = 100
    is_pretrained: bool = False
    max_token_len: int = 512
    project_dir: str = "./mase_output"
    project: str | None = None
    # machop additions
    data_path: str | None = None
    model_file: str | None = None
    compile: bool = False
    batch_order: str = "shared"
    resume: bool = False

    def project_name(self, today: str) -> str:
        """MASE's default project name ``{model}_{task}_{dataset}_{date}``."""
        if self.project:
            return self.project
        return f"{self.model}_{self.task}_{self.dataset}_{today}"

    def software_dir(self, today: str) -> Path:
        return Path(self.project_dir) / self.project_name(today) / "software"


# Keys MASE accepts that change nothing in machop: warned about, never an error.
NO_EFFECT = {
    "to_debug", "report_to", "quant_config", "trainer_precision", "accumulate_grad_batches",
    "num_workers", "num_devices", "num_nodes", "strategy", "is_to_auto_requeue",
    "github_ci", "disable_dataset_cache", "target", "num_targets", "is_pretrained", "max_token_len",
}

FIELD_TYPES = {f.name: f.type for f in dataclasses.fields(MaseArgs)}
DEFAULTS = {f.name: f.default for f in dataclasses.fields(MaseArgs)}

_MASE_ONLY = "MASE's flag: accepted, no effect in machop (a warning says so)"

# (flags, destination, argparse kwargs); destinations are the TOML keys.
MASE_FLAGS: list[tuple[tuple[str, ...], str, dict[str, Any]]] = [
    (("--task",), "task", {"help": "the task: classification (alias cls), the only one machop knows"}),
    (("--load",), "load_name", {"metavar": "PATH",
                                "help": "checkpoint to start from: best.ckpt, a state-dict .pt or a saved graph .mz"}),
    (("--load-type",), "load_type", {"choices": LOAD_TYPES, "help": "how to read --load (default: from the file)"}),
    (("--batch-size",), "batch_size", {"type": int, "help": "rows per step (default 128)"}),
    (("--log-level",), "log_level", {"choices": ("debug", "info", "warning", "error", "critical"),
                                 "help": "how much is logged to stderr (default info)"}),
    (("--report-to",), "report_to", {"help": _MASE_ONLY}),
    (("--seed",), "seed", {"type": int, "help": "seeds weights and batch order (default 0)"}),
    (("--quant-config",), "quant_config", {"help": _MASE_ONLY}),
    (("--training-optimizer",), "training_optimizer", {"help": "adam, adamw or sgd (default adam)"}),
    (("--trainer-precision",), "trainer_precision", {"help": _MASE_ONLY}),
    (("--learning-rate",), "learning_rate", {"type": float,
                                             "help": "initial learning rate, cosine per epoch (default 1e-5)"}),
    (("--weight-decay",), "weight_decay", {"type": float, "help": "weight decay (default 0)"}),
    (("--max-epochs",), "max_epochs", {"type": int, "help": "epochs to train (default 20)"}),
    (("--max-steps",), "max_steps", {"type": int, "help": "stop after this many steps; -1: no limit (default)"}),
    (("--accumulate-grad-batches",), "accumulate_grad_batches", {"type": int, "help": _MASE_ONLY}),
    (("--log-every-n-steps",), "log_every_n_steps", {"type": int,
                                                     "help": "step scalars every N steps; 0: none (default 50)"}),
    (("--cpu", "--num-workers"), "num_workers", {"type": int, "help": _MASE_ONLY}),
    (("--gpu", "--num-devices"), "num_devices", {"type": int, "help": _MASE_ONLY}),
    (("--nodes",), "num_nodes", {"type": int, "help": _MASE_ONLY}),
    (("--accelerator",), "accelerator", {"help": "auto, cpu or gpu (cuda means gpu; default auto)"}),
    (("--strategy",), "strategy", {"help": _MASE_ONLY}),
    (("--auto-requeue",), "is_to_auto_requeue", {"action": "store_const", "const": True, "help": _MASE_ONLY}),
    (("--github-ci",), "github_ci", {"action": "store_const", "const": True, "help": _MASE_ONLY}),
    (("--disable-dataset-cache",), "disable_dataset_cache", {"action": "store_const", "const": True,
                                                             "help": _MASE_ONLY}),
    (("--target",), "target", {"help": _MASE_ONLY}),
    (("--num-targets",), "num_targets", {"type": int, "help": _MASE_ONLY}),
    (("--pretrained",), "is_pretrained", {"action": "store_const", "const": True, "help": _MASE_ONLY}),
    (("--max-token-len",), "max_token_len", {"type": int, "help": _MASE_ONLY}),
    (("--project-dir",), "project_dir", {"metavar": "DIR",
                                         "help": "outputs go under DIR/PROJECT/software/ (default ./mase_output)"}),
    (("--project",), "project", {"help": "the project folder (default MODEL_TASK_DATASET_DATE)"}),
    (("--data-path",), "data_path", {"metavar": "PATH", "help": "dataset file or directory (machop)"}),
    (("--model-file",), "model_file", {"metavar": "FILE.py:Class", "help": "a model class in your own file (the same as MODEL FILE.py:Class)"}),
    (("--compile",), "compile", {"action": "store_const", "const": True, "help": "torch.compile the step"}),
    (("--batch-order",), "batch_order", {"choices": BATCH_ORDERS,
                                  "help": "ensembles: one batch order for all models or one each (default shared)"}),
    (("--resume",), "resume", {"action": "store_const", "const": True, "help": "continue from last.ckpt"}),
]


def add_mase_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``[MODEL] [DATASET]`` and every MASE flag, all defaulting to "not given"."""
    parser.add_argument("model", nargs="?", default=None, help="model name or FILE.py:Class (or `model` in the TOML)")
    parser.add_argument("dataset", nargs="?", default=None, help="dataset name (or `dataset` in the TOML)")
    for flags, dest, kwargs in MASE_FLAGS:
        parser.add_argument(*flags, dest=dest, default=None, **kwargs)


@dataclass(frozen=True)
class ArgumentRow:
    """One row of the effective-arguments table."""

    name: str
    default: Any
    from_config: Any
    from_cli: Any
    effective: Any


@dataclass(frozen=True)
class ResolvedArgs:
    args: MaseArgs
    rows: tuple[ArgumentRow, ...]
    sections: Mapping[str, Any]


_UNSET = object()


def coerce_value(key: str, value: Any, source: str) -> Any:
    """Turn a TOML/flag value into the field's type; ``"NA"`` means None (MASE convention)."""
    if value == "NA" or value is None:
        return None
    kind = FIELD_TYPES[key]
    try:
        if kind == "int" and not isinstance(value, bool):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if kind == "float" and not isinstance(value, bool):
            return float(value)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            raise ValueError
    except (TypeError, ValueError):
        pass
    else:
        if kind not in ("int", "float", "bool"):
            if not isinstance(value, str):
                raise ConfigError(f"{source}: `{key}` must be a string, got {value!r}")
            return value
    expected = {"int": "an integer", "float": "a number", "bool": "true or false"}[kind]
    raise ConfigError(f"{source}: `{key}` must be {expected}, got {value!r}")


def validate_args(args: MaseArgs) -> MaseArgs:
    """Check ranges and names once, at the edge; normalise aliases (cuda → gpu, cls → classification)."""
    if args.batch_size <= 0:
        raise ConfigError(f"batch_size must be a positive integer, got {args.batch_size}")
    if not 0 < args.learning_rate < math.inf:
        raise ConfigError(f"learning_rate must be a positive finite number, got {args.learning_rate}")
    if args.max_steps == 0 or args.max_steps < -1:
        raise ConfigError(f"max_steps must be a positive integer, or -1 for no limit, got {args.max_steps}")
    if args.max_epochs <= 0 and args.max_steps <= 0:
        raise ConfigError(f"max_epochs must be at least 1, got {args.max_epochs}")
    if not 0 <= args.weight_decay < math.inf:
        raise ConfigError(f"weight_decay must be a finite number >= 0, got {args.weight_decay}")
    if args.log_every_n_steps < 0:
        raise ConfigError(f"log_every_n_steps must be >= 0 (0: no per-step logs), got {args.log_every_n_steps}")
    optimizer = args.training_optimizer.lower()
    if optimizer not in OPTIMIZERS:
        raise ConfigError(f"training_optimizer '{args.training_optimizer}' is not one of {', '.join(OPTIMIZERS)}")
    accelerator = {"cuda": "gpu"}.get(args.accelerator.lower(), args.accelerator.lower())
    if accelerator not in ACCELERATORS:
        raise ConfigError(f"accelerator '{args.accelerator}' is not one of auto, cpu, gpu (or cuda)")
    task = {"cls": "classification"}.get(args.task, args.task)
    if task not in TASKS:
        raise ConfigError(f"task '{args.task}' is not supported; machop knows: classification (cls)")
    if args.load_type is not None and args.load_type not in LOAD_TYPES:
        raise ConfigError(f"load_type '{args.load_type}' is not one of {', '.join(LOAD_TYPES)}")
    if args.batch_order not in BATCH_ORDERS:
        raise ConfigError(f"batch_order '{args.batch_order}' is not one of {', '.join(BATCH_ORDERS)}")
    return dataclasses.replace(args, training_optimizer=optimizer, accelerator=accelerator, task=task)


TOP_LEVEL_KEYS = Wording(
    error=ConfigError, logger=log,
    unknown="{where}: unknown key `{key}`{hint}",
    ignored="{where}: `{key}` is accepted for MASE compatibility and has no effect in machop ({reason})",
    wrong_type="{where}: `{key}` must be {expected}, got {value}",
)
"""Messages about a TOML's top-level keys; their values are coerced by ``coerce_value``."""


def split_config(config: Mapping[str, Any], source: str, sections: tuple[str, ...] = SECTION_KEYS):
    """Separate top-level keys from action sections, refusing keys MASE does not know."""
    Options.names(*FIELD_TYPES, *sections).check(config, source, TOP_LEVEL_KEYS)
    flat = {key: value for key, value in config.items() if key not in sections}
    tables = {key: value for key, value in config.items() if key in sections}
    return flat, tables


def resolve_mase_args(namespace: argparse.Namespace, overrides: Mapping[str, Any] | None = None) -> ResolvedArgs:
    """Merge defaults, the ``--config`` TOML and explicit flags into one validated ``MaseArgs``.

    ``overrides`` lets an action fix values that are not flags (e.g. a sweep's per-run settings).
    """
    config: dict[str, Any] = {}
    sections: dict[str, Any] = {}
    if getattr(namespace, "config", None):
        source = str(namespace.config)
        config, sections = split_config(load_toml(namespace.config), source)
        config = {key: coerce_value(key, value, source) for key, value in config.items()}
    cli = {key: coerce_value(key, getattr(namespace, key), "command line")
           for key in FIELD_TYPES if getattr(namespace, key, None) is not None}
    cli.update(overrides or {})
    values = {**DEFAULTS, **config, **cli}
    for key in sorted(set(config) | set(cli)):
        if key in NO_EFFECT and values[key] != DEFAULTS[key]:
            log.warning("`%s` is accepted for MASE compatibility and has no effect in machop", key)
    args = validate_args(MaseArgs(**values))
    rows = tuple(
        ArgumentRow(key, DEFAULTS[key], config.get(key, _UNSET), cli.get(key, _UNSET), getattr(args, key))
        for key in FIELD_TYPES
    )
    return ResolvedArgs(args=args, rows=rows, sections=sections)


def render_arguments_table(rows: tuple[ArgumentRow, ...]) -> Any:
    """The MASE table ``Name | Default | Config. File | Manual Override | Effective`` (a rich Table)."""
    from rich.table import Table

    table = Table(title="Arguments")
    for column in ("Name", "Default", "Config. File", "Manual Override", "Effective"):
        table.add_column(column)
    for row in rows:
        shown = lambda value: "" if value is _UNSET else str(value)  # noqa: E731
        table.add_row(row.name, str(row.default), shown(row.from_config), shown(row.from_cli), str(row.effective))
    return table
