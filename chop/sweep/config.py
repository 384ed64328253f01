"""Sweep files parsed once into typed values: the configurations and the runs they expand to.

A sweep TOML holds the ``ch train`` keys at top level (the base arguments of every run), plus
``name``, ``repeats``, a ``[grid]`` of lists and/or an explicit ``[[runs]]`` list. Every
``[[runs]]`` entry (or the base alone) is crossed with the grid; each configuration then runs
``repeats`` times with seed ``seed + repeat`` (repeat = 0, 1, ...), so repeat r of every
configuration starts from the same seed and configurations differ only in what they sweep.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chop.config.mase_args import DEFAULTS, FIELD_TYPES, NO_EFFECT, MaseArgs, coerce_value, validate_args
from chop.config.toml_file import load_toml
from chop.errors import ConfigError, did_you_mean

log = logging.getLogger(__name__)

GRID_KEYS = ("batch_size", "max_epochs", "learning_rate", "training_optimizer", "weight_decay")
SWEEP_KEYS = ("name", "repeats", "grid", "runs")
# Keys that must be the same for every run of a sweep (one dataset, one output directory).
BASE_ONLY_KEYS = ("dataset", "data_path", "project_dir", "batch_order", "accelerator", "compile", "seed")
# The settings that define what a run computes; they enter the store's fingerprint.
TRAINING_KEYS = ("model", "model_file", "load_name", "load_type", "batch_size", "max_epochs", "max_steps",
                 "learning_rate", "training_optimizer", "weight_decay")
REFUSED = {
    "project": "a sweep writes to {project_dir}/{name}/ where name is the sweep's `name` key or the file's "
               "stem (no date, so a resume on another day finds its store); set `name` instead of `project`",
    "resume": "a sweep always resumes from its store (sweep.sqlite); remove `resume`",
}


@dataclass(frozen=True)
class Configuration:
    """One point of the sweep: the effective arguments plus what it sets beyond the base."""

    config_id: int
    label: str
    swept: Mapping[str, Any]
    args: MaseArgs

    def training(self) -> dict[str, Any]:
        """The settings that decide what this configuration trains (fingerprint, store rows)."""
        return {key: getattr(self.args, key) for key in TRAINING_KEYS}


@dataclass(frozen=True)
class PlannedRun:
    """One model to train: a configuration and a repeat index."""

    config: Configuration
    repeat: int
    seed: int

    @property
    def key(self) -> tuple[int, int]:
        return (self.config.config_id, self.repeat)


@dataclass(frozen=True)
class SweepConfig:
    name: str
    source: str
    base: MaseArgs
    repeats: int
    swept_keys: tuple[str, ...]
    configurations: tuple[Configuration, ...]

    @property
    def batch_order(self) -> str:
        return self.base.batch_order

    def runs(self) -> list[PlannedRun]:
        """Every run in a stable order: configuration by configuration, repeat by repeat."""
        return [PlannedRun(config, repeat, self.base.seed + repeat)
                for config in self.configurations for repeat in range(self.repeats)]

    def definition(self) -> dict[str, Any]:
        """What the sweep computes, as plain JSON values: compared against an existing store."""
        return {
            "dataset": self.base.dataset,
            "repeats": self.repeats,
            "seed": self.base.seed,
            "batch_order": self.batch_order,
            "configurations": [{"id": c.config_id, "label": c.label, **c.training()} for c in self.configurations],
        }


def _check_keys(table: Mapping[str, Any], source: str, allowed: tuple[str, ...]) -> None:
    for key in table:
        if key in REFUSED:
            raise ConfigError(f"{source}: `{key}` is not allowed in a sweep file: {REFUSED[key]}")
        if key not in allowed:
            raise ConfigError(f"{source}: unknown key `{key}`{did_you_mean(key, allowed)}")


def _coerce_table(table: Mapping[str, Any], source: str) -> dict[str, Any]:
    values = {key: coerce_value(key, value, source) for key, value in table.items()}
    for key, value in values.items():
        if key in NO_EFFECT and value != DEFAULTS[key]:
            log.warning("`%s` is accepted for MASE compatibility and has no effect in machop", key)
    return values


def _parse_grid(grid: Any, source: str) -> dict[str, list[Any]]:
    if not isinstance(grid, Mapping):
        raise ConfigError(f"{source}: `grid` must be a table of lists, e.g. [grid] learning_rate = [1e-3, 1e-2]")
    if not grid:
        raise ConfigError(f"{source}: [grid] is empty; give at least one of {', '.join(GRID_KEYS)} as a list")
    parsed: dict[str, list[Any]] = {}
    for key, values in grid.items():
        if key not in GRID_KEYS:
            raise ConfigError(f"{source}: unknown grid key `{key}`{did_you_mean(key, GRID_KEYS)}; "
                              f"a grid sweeps {', '.join(GRID_KEYS)}")
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{source}: grid.{key} must be a non-empty list, got {values!r}")
        coerced = [coerce_value(key, value, f"{source} grid.{key}") for value in values]
        if len(set(coerced)) != len(coerced):
            raise ConfigError(f"{source}: grid.{key} lists a value twice: {values!r}")
        parsed[key] = coerced
    return parsed


def _parse_runs(runs: Any, source: str) -> list[tuple[str | None, dict[str, Any]]]:
    if not isinstance(runs, list) or not runs or not all(isinstance(entry, Mapping) for entry in runs):
        raise ConfigError(f"{source}: `runs` must be a non-empty list of tables ([[runs]] entries)")
    allowed = tuple(key for key in FIELD_TYPES if key not in BASE_ONLY_KEYS) + ("label",)
    parsed = []
    for index, entry in enumerate(runs, start=1):
        where = f"{source} [[runs]] #{index}"
        for key in entry:
            if key in BASE_ONLY_KEYS:
                raise ConfigError(f"{where}: `{key}` must be the same for the whole sweep; set it at top level")
        _check_keys(entry, where, allowed)
        label = entry.get("label")
        if label is not None and not isinstance(label, str):
            raise ConfigError(f"{where}: `label` must be a string, got {label!r}")
        parsed.append((label, _coerce_table({k: v for k, v in entry.items() if k != "label"}, where)))
    return parsed


def _validated(args: MaseArgs, where: str) -> MaseArgs:
    """``mase_args._validate`` with the file (and configuration) named in its message."""
    try:
        return validate_args(args)
    except ConfigError as error:
        raise ConfigError(f"{where}: {error}") from None


def parse_sweep(raw: Mapping[str, Any], source: str, name: str, overrides: Mapping[str, Any] | None = None) -> SweepConfig:
    """Validate a sweep table (already read from TOML); ``name`` is used when the table has none.

    ``overrides`` are command-line values (e.g. ``project_dir``) that win over the file.
    """
    _check_keys(raw, source, tuple(FIELD_TYPES) + SWEEP_KEYS)
    flat = {key: value for key, value in raw.items() if key not in SWEEP_KEYS}
    base_values = {**DEFAULTS, **_coerce_table(flat, source), **(overrides or {})}
    base = _validated(MaseArgs(**base_values), source)
    if base.dataset is None:
        raise ConfigError(f"{source}: no dataset; set `dataset` (e.g. \"jsc-pythia\")")

    sweep_name = raw.get("name", name)
    if not isinstance(sweep_name, str) or not sweep_name or "/" in sweep_name or sweep_name in (".", ".."):
        raise ConfigError(f"{source}: `name` must be a plain directory name, got {sweep_name!r}")
    repeats = raw.get("repeats", 1)
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ConfigError(f"{source}: `repeats` must be an integer >= 1, got {repeats!r}")

    grid = _parse_grid(raw["grid"], source) if "grid" in raw else {}
    entries = _parse_runs(raw["runs"], source) if "runs" in raw else [(None, {})]
    swept_keys = tuple(dict.fromkeys([key for _, entry in entries for key in entry] + list(grid)))
    if not swept_keys:
        raise ConfigError(f"{source}: nothing to sweep; add a [grid] (lists over {', '.join(GRID_KEYS)}) "
                          "or [[runs]] entries")

    configurations: list[Configuration] = []
    seen: dict[tuple, str] = {}
    for label, entry in entries:
        for point in itertools.product(*grid.values()):
            swept = {**entry, **dict(zip(grid, point))}
            config_id = len(configurations) + 1
            where = f"{source} configuration {config_id}"
            if "load_type" in swept and "load_name" not in swept:
                raise ConfigError(f"{where}: `load_type` needs `load_name`")
            args = _validated(dataclasses.replace(base, **swept), where)
            if args.model is None and args.model_file is None:
                raise ConfigError(f"{where}: no model; set `model` (a registered name) or `model_file`")
            shown = grid if label is not None else [key for key in swept_keys if key in swept]
            text = " ".join(filter(None, [label, ", ".join(f"{key}={swept[key]}" for key in shown)]))
            configuration = Configuration(config_id, text, swept, args)
            identity = tuple(sorted(configuration.training().items(), key=lambda item: item[0]))
            if identity in seen:
                raise ConfigError(f"{where} ({text}) trains exactly like '{seen[identity]}'; remove the duplicate")
            seen[identity] = text
            configurations.append(configuration)
    return SweepConfig(sweep_name, source, base, repeats, swept_keys, tuple(configurations))


def load_sweep(path: str | Path, overrides: Mapping[str, Any] | None = None) -> SweepConfig:
    """Read and validate a sweep TOML; the sweep's name defaults to the file's stem."""
    path = Path(path)
    return parse_sweep(load_toml(path), str(path), path.stem, overrides)
