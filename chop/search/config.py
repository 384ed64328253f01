"""The ``[search]`` tables of a TOML, parsed once into frozen values (lab-api §7).

MASE reads ``config["search"]["strategy"]["setup"]["n_trials"]`` deep inside its strategy and fails
with a ``KeyError`` when a key is missing or misspelt. Here every key is checked at the edge and a
mistake is a one-line ``ConfigError`` that names the TOML key path, e.g.
``[search.strategy.setup] sampler = "tpx": expected one of tpe, random, ... (did you mean 'tpe'?)``.

As MASE's config loader does, the string ``"NA"`` means None: a frac width of ``"NA"`` is then
``width // 2`` and a quantiser name of ``"NA"`` leaves the node in float.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chop.errors import ConfigError, did_you_mean
from chop.search.registry import (
    SEARCH_SPACES,
    SEARCH_STRATEGIES,
    USER_CLASS,
    get_search_space_cls,
    get_search_strategy_cls,
    names_user_class,
)
from chop.tools.logger import get_logger
from chop.tools.options import Option, Options, Wording

log = get_logger(__name__)

SPACE_NAMES = tuple(SEARCH_SPACES)
BY = ("name", "type")
STRATEGY_NAMES = tuple(SEARCH_STRATEGIES)
# brute_force and grid are one sampler: every point of the space once
SAMPLERS = ("tpe", "random", "nsgaii", "nsgaiii", "qmc", "grid", "brute_force")
BRUTE_FORCE = ("brute_force", "grid")
DIRECTIONS = ("minimize", "maximize")
# MASE's data-loader names -> the DatasetSplits split they read
DATA_LOADERS = {"val_dataloader": "validation", "train_dataloader": "train", "test_dataloader": "test"}
# runner name -> the metrics it reports
SW_RUNNERS = {"basic_evaluation": ("loss", "accuracy")}
# trains each candidate of an architecture space, which basic_evaluation then scores
TRAIN_RUNNER = "basic_train"
HW_RUNNERS = {"average_bitwidth": ("average_bitwidth", "memory_density"), "bitops": ("bitops",),
              "resource_estimate": ("luts", "ffs", "dsps", "latency_cycles"),
              "synthesis": ("yosys_luts", "yosys_ffs", "yosys_dsps", "yosys_carry4")}
# measured after the search, on the final Pareto set only: reported, never an objective
AFTER_SEARCH_RUNNERS = ("synthesis",)
PIPELINES = ("none", "layer", "split")  # chop.hardware.rtl.PIPELINES, named here without importing the backend
DEFAULT_SEED = "default"
# trials sampled and scored together (chop.search.batched_trials); 1 is one trial at a time
DEFAULT_BATCH_SIZE = 32

SEARCH_KEYS = Wording(
    error=ConfigError, logger=log,
    unknown="{where} unknown key `{key}`{hint}; known: {known}{ignored_note}",
    ignored="{where} `{key}` is accepted for MASE compatibility and has no effect in machop ({reason})",
    wrong_type="{where} {key} = {value}: expected {expected}",
)
"""Messages about the keys of a ``[search...]`` table; each value is checked by the table's readers."""

_SERIAL = "trials run one after another"
# The keys of each table; MASE's setup keys that change nothing here are accepted with a warning
# (n_jobs = 1 is what machop does anyway).
SEARCH_TABLE = Options.names("search_space", "strategy")
SPACE_TABLE = Options.names("name", "setup", "seed")
SPACE_SETUP_TABLE = Options.names("by", "model_parallel")
SEED_TABLE = Options.names("config")
STRATEGY_TABLE = Options.names("name", "eval_mode", "setup", "metrics", "sw_runner", "hw_runner")
STRATEGY_SETUP_TABLE = Options.names("n_trials", "timeout", "sampler", "sum_scaled_metrics", "direction", "storage",
                                     "grace_period", "batch_size", "jobs") + Options(
    Option("n_jobs", ignored=_SERIAL, quiet_value=1),
    *(Option(key, ignored=_SERIAL) for key in ("model_parallel", "runner_style", "pkl_ckpt", "save_every_n_trials")),
)
SW_RUNNER_TABLE = Options.names(*SW_RUNNERS, TRAIN_RUNNER)
HW_RUNNER_TABLE = Options.names(*HW_RUNNERS)
EVALUATION_TABLE = Options.names("data_loader", "dataloader", "num_samples")
TRAIN_TABLE = Options.names("max_epochs", "batch_size", "learning_rate", "optimizer", "weight_decay", "qat_epochs")
OPTIMIZERS = ("adam", "adamw", "sgd")  # chop.engine.types.OPTIMIZERS, named here without importing torch
ARCHITECTURE_SEED_KEYS = Options.names("channel_multiplier")
COMBINED_SPACE_TABLE = Options.names("name", "architecture", "quantize")
BITWIDTH_TABLE = Options.names("compare_to")
BUILD_KEYS = ("pipeline", "input_format", "fold_batchnorm")  # the [hardware] keys that shape the design
BITOPS_TABLE = Options.names()
ESTIMATE_TABLE = Options.names(*BUILD_KEYS)
SYNTHESIS_TABLE = Options.names(*BUILD_KEYS, "pareto_only")
METRIC_TABLE = Options.names("scale", "direction")


@dataclass(frozen=True)
class Seed:
    """One ``seed.<key>.config`` table: for each quantiser key, its choices (``"NA"`` already None)."""

    key: str
    choices: tuple[tuple[str, tuple[Any, ...]], ...]


@dataclass(frozen=True)
class SearchSpaceConfig:
    name: str
    by: str
    seeds: tuple[Seed, ...]

    def seed(self, key: str) -> Seed | None:
        return next((s for s in self.seeds if s.key == key), None)


@dataclass(frozen=True)
class MetricConfig:
    name: str
    scale: float
    direction: str | None


@dataclass(frozen=True)
class EvaluationConfig:
    """``sw_runner.basic_evaluation``: the first ``num_samples`` rows of ``split``."""

    num_samples: int
    data_loader: str

    @property
    def split(self) -> str:
        return DATA_LOADERS[self.data_loader]


@dataclass(frozen=True)
class TrainConfig:
    """``sw_runner.basic_train``: how each candidate of an architecture space is trained (defaults: MASE's lab 4 run).

    ``qat_epochs`` > 0 fine-tunes each quantised candidate of the combined space for that many epochs.
    """

    max_epochs: int = 5
    batch_size: int = 512
    learning_rate: float = 1e-2
    optimizer: str = "adam"
    weight_decay: float = 0.0
    qat_epochs: int = 0


@dataclass(frozen=True)
class ArchitectureSpaceConfig:
    """``graph/architecture/channel_multiplier``: the multiplier choices, ``default`` (one uniform choice) and per
    hidden linear node."""

    name: str
    multipliers: tuple[tuple[str, tuple[float, ...]], ...]


@dataclass(frozen=True)
class CombinedSpaceConfig:
    """``graph/architecture_quantize``: an architecture space and a mixed-precision space over each architecture."""

    name: str
    architecture: ArchitectureSpaceConfig
    quantize: SearchSpaceConfig


@dataclass(frozen=True)
class BitwidthConfig:
    """``hw_runner.average_bitwidth``: ``memory_density = compare_to / average_bitwidth``."""

    compare_to: float


@dataclass(frozen=True)
class HardwareBuild:
    """How a candidate's design is built, as ``ch hardware`` builds it (its ``[hardware]`` keys of that name)."""

    pipeline: str = "layer"
    input_format: tuple[int, ...] | None = None  # (width, frac) or (width, frac, signed); None: the first layer's
    fold_batchnorm: bool = True


@dataclass(frozen=True)
class HardwareRunners:
    """``hw_runner.bitops``, ``hw_runner.resource_estimate`` (every trial) and ``hw_runner.synthesis`` (Yosys on the
    final Pareto set); None where the config does not have the runner."""

    bitops: bool = False
    estimate: HardwareBuild | None = None
    synthesis: HardwareBuild | None = None

    @property
    def per_trial(self) -> bool:
        """Whether a trial needs its quantised graph for the hardware metrics (not only its weight widths)."""
        return self.bitops or self.estimate is not None


@dataclass(frozen=True)
class StrategyConfig:
    sampler: str
    n_trials: int
    timeout: float | None
    sum_scaled_metrics: bool
    directions: tuple[str, ...]        # one per objective: the setup's for a sum, each metric's otherwise
    metrics: tuple[MetricConfig, ...]  # sorted by name, as MASE orders its objectives
    eval_mode: bool
    evaluation: EvaluationConfig | None
    bitwidth: BitwidthConfig | None
    storage: str | None = None           # the optuna storage URL of the TOML; --storage beats it
    grace_period: int = 10               # seconds without a heartbeat after which a running trial counts as lost
    options: Mapping[str, Any] = field(default_factory=dict)  # a user strategy's own setup keys (its setup_keys)
    batch_size: int = DEFAULT_BATCH_SIZE  # trials sampled and scored together
    training: TrainConfig | None = None   # sw_runner.basic_train: candidates are trained, not transforms of the model
    jobs: int = 1                         # architectures trained at once in worker processes (--jobs beats it)
    hardware: HardwareRunners = field(default_factory=HardwareRunners)

    @property
    def metric_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.metrics)


@dataclass(frozen=True)
class SearchConfig:
    """``space`` is the ``[search.search_space]`` table as ``space_cls.parse_config`` read it."""

    space: Any
    strategy: StrategyConfig
    space_name: str = SPACE_NAMES[0]
    strategy_name: str = STRATEGY_NAMES[0]
    space_cls: type | None = None      # None: looked up by name
    strategy_cls: type | None = None

    def space_class(self) -> type:
        return self.space_cls or get_search_space_cls(self.space_name)

    def strategy_class(self) -> type:
        return self.strategy_cls or get_search_strategy_cls(self.strategy_name)


def toml_value(value: Any) -> str:
    """A value as the user wrote it in TOML (strings in double quotes)."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


class _Table:
    """One TOML table with its key path, so every error can say where it is."""

    def __init__(self, source: str, path: str, data: Any, keys: Options | None = None) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(f"{source}: [{path}] must be a table, got {toml_value(data)}")
        self.source, self.path, self.data = source, path, dict(data)
        if keys is not None:
            keys.check(self.data, self.where(), SEARCH_KEYS)

    def where(self) -> str:
        return f"{self.source}: [{self.path}]"

    def error(self, key: str, expected: str) -> ConfigError:
        return ConfigError(f"{self.where()} {key} = {toml_value(self.data.get(key))}: expected {expected}")

    def missing(self, key: str, example: str) -> ConfigError:
        return ConfigError(f"{self.where()} is missing `{key}` (e.g. {key} = {example})")

    def table(self, key: str, keys: Options | None = None, required: bool = True) -> _Table | None:
        if key not in self.data:
            if required:
                raise ConfigError(f"{self.where()} is missing the table [{self.path}.{key}]")
            return None
        return _Table(self.source, f"{self.path}.{key}", self.data[key], keys)

    def choice(self, key: str, choices: tuple[str, ...], default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value is None:
            raise self.missing(key, toml_value(choices[0]))
        word = value.lower() if isinstance(value, str) else value
        if word not in choices:
            hint = did_you_mean(word, choices) if isinstance(word, str) else ""
            raise self.error(key, f"one of {', '.join(choices)}{hint}")
        return word

    def integer(self, key: str, low: int, default: int | None = None) -> int:
        value = self.data.get(key, default)
        if value is None:
            raise self.missing(key, str(low))
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self.error(key, f"an integer >= {low}")
        return value

    def number(self, key: str, default: float | None, positive: bool = False) -> float | None:
        value = self.data.get(key, default)
        if value is None or value == "NA":
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or (positive and value <= 0):
            raise self.error(key, "a positive number" if positive else "a number")
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, "true or false")
        return value


def parse_search_config(search: Any, source: str) -> SearchConfig:
    """Check the ``[search]`` table of ``source`` (the TOML path, for messages; ``FILE.py:Class`` names are read
    from its folder)."""
    if search is None:
        raise ConfigError(f"{source}: no [search] table; `ch search` needs [search.search_space] and "
                          "[search.strategy] (see configs/search/jsc_tiny_mixed_precision.toml)")
    root = _Table(source, "search", search, SEARCH_TABLE)
    folder = Path(source).parent
    space_table = root.table("search_space")
    space_name = space_table.data.get("name")
    space_cls = _named_class(space_table, SPACE_NAMES, get_search_space_cls, folder)
    strategy_table = root.table("strategy")
    strategy_name = strategy_table.data.get("name", STRATEGY_NAMES[0])
    strategy_table.data.setdefault("name", strategy_name)
    strategy_cls = _named_class(strategy_table, STRATEGY_NAMES, get_search_strategy_cls, folder)
    space = space_cls.parse_config(space_table.data, source)
    strategy = _parse_strategy(strategy_table, strategy_name, strategy_cls.setup_keys)
    _check_training(strategy_table, space_name, space_cls.retrains, strategy)
    return SearchConfig(space, strategy, space_name, strategy_name, space_cls, strategy_cls)


def _check_training(table: _Table, space_name: str, retrains: bool, strategy: StrategyConfig) -> None:
    """A space whose candidates are new models needs ``basic_train``; a space over the trained model refuses it."""
    runner = f"[{table.path}.sw_runner.basic_train]"
    if retrains and strategy.training is None:
        raise ConfigError(f"{table.where()} the space {space_name} trains every candidate: add {runner} "
                          "(e.g. max_epochs = 5)")
    if not retrains and strategy.training is not None:
        raise ConfigError(f"{table.source}: {runner} trains the candidates of an architecture space; the space "
                          f"{space_name} measures the given model (use sw_runner.basic_evaluation)")
    if strategy.training is not None and strategy.evaluation is None:
        raise ConfigError(f"{table.source}: {runner} scores each trained candidate as basic_evaluation does: add "
                          f"[{table.path}.sw_runner.basic_evaluation] (data_loader, num_samples)")


def _named_class(table: _Table, known: tuple[str, ...], lookup: Any, folder: Path) -> type:
    """The class ``name`` of ``table`` names: a built-in one or ``FILE.py:Class``; anything else lists the known."""
    name = table.data.get("name")
    if not isinstance(name, str) or not (name in known or names_user_class(name)):
        hint = did_you_mean(name, known) if isinstance(name, str) else ""
        raise table.error("name", f"one of {', '.join(known)}, or {USER_CLASS}{hint}")
    try:
        return lookup(name, folder)
    except ConfigError as error:
        raise ConfigError(f"{table.where()} name = {toml_value(name)}: {error}") from error.__cause__


def parse_mixed_precision_space(data: Mapping[str, Any], source: str) -> SearchSpaceConfig:
    """``[search.search_space]`` of ``graph/quantize/mixed_precision_ptq``: ``setup.by`` and the seeds."""
    return _parse_seeds(_Table(source, "search.search_space", data, SPACE_TABLE))


def _parse_seeds(table: _Table) -> SearchSpaceConfig:
    """A mixed-precision space table (``setup.by``, ``seed.<key>.config``), wherever it sits in the TOML."""
    name = table.data["name"]
    setup = table.table("setup", SPACE_SETUP_TABLE)
    by = setup.choice("by", BY)
    seed_table = table.table("seed")
    seeds = []
    for key, entry in seed_table.data.items():
        entry_table = _Table(table.source, f"{seed_table.path}.{key}", entry, SEED_TABLE)
        config = entry_table.table("config")
        if "name" not in config.data:
            raise config.missing("name", '["integer"]')
        choices = []
        for option, values in config.data.items():
            if not isinstance(values, list) or not values:
                raise config.error(option, 'a non-empty list of choices, e.g. [4, 8] or ["NA"]')
            choices.append((option, tuple(None if v == "NA" else v for v in values)))
        seeds.append(Seed(key, tuple(choices)))
    if not seeds:
        raise ConfigError(f"{seed_table.where()} has no seeds; add e.g. [{seed_table.path}.linear.config] "
                          'with name = ["integer"] and width choices')
    return SearchSpaceConfig(name, by, tuple(seeds))


def _parse_strategy(table: _Table, name: str, own_keys: tuple[str, ...]) -> StrategyConfig:
    STRATEGY_TABLE.check(table.data, table.where(), SEARCH_KEYS)
    eval_mode = table.boolean("eval_mode", True)
    setup = table.table("setup", STRATEGY_SETUP_TABLE + Options.names(*own_keys))
    sampler = setup.choice("sampler", SAMPLERS, default="tpe")
    if name == "brute_force":
        if sampler not in BRUTE_FORCE and "sampler" in setup.data:
            log.warning("%s sampler = %s is ignored: [search.strategy] name = \"brute_force\" visits every point once",
                        setup.where(), toml_value(setup.data["sampler"]))
        sampler = "brute_force"
    n_trials = setup.integer("n_trials", 1)
    storage = setup.data.get("storage")
    if storage is not None and (not isinstance(storage, str) or not storage):
        raise setup.error("storage", 'an optuna storage URL, e.g. "sqlite:///study.sqlite"')
    grace_period = setup.integer("grace_period", 2, default=10)
    options = {key: setup.data[key] for key in own_keys if key in setup.data}
    batch_size = setup.integer("batch_size", 1, default=DEFAULT_BATCH_SIZE)
    jobs = setup.integer("jobs", 1, default=1)
    timeout = setup.number("timeout", None, positive=True)
    summed = setup.boolean("sum_scaled_metrics", False)
    direction = None
    if summed:
        if "direction" not in setup.data:
            raise ConfigError(f"{setup.where()} is missing `direction` (minimize or maximize), which "
                              "sum_scaled_metrics = true needs for the summed objective")
        direction = setup.choice("direction", DIRECTIONS)
    evaluation, bitwidth = _parse_runners(table)
    training = _parse_training(table)
    hardware = _parse_hardware_runners(table)
    metrics = _parse_metrics(table, summed, evaluation is not None, _configured(bitwidth, hardware))
    directions = (direction,) if direction is not None else tuple(m.direction for m in metrics)
    return StrategyConfig(sampler, n_trials, timeout, summed, directions, metrics, eval_mode, evaluation, bitwidth,
                          storage, grace_period, options, batch_size, training, jobs, hardware)


def _parse_training(table: _Table) -> TrainConfig | None:
    """``[search.strategy.sw_runner.basic_train]``, or None when the strategy has none."""
    sw = table.table("sw_runner", SW_RUNNER_TABLE, required=False)
    if sw is None or TRAIN_RUNNER not in sw.data:
        return None
    runner = sw.table(TRAIN_RUNNER, TRAIN_TABLE)
    default = TrainConfig()
    learning_rate = runner.number("learning_rate", default.learning_rate, positive=True)
    weight_decay = runner.number("weight_decay", default.weight_decay)
    if learning_rate is None:
        raise runner.error("learning_rate", "a positive number")
    if weight_decay is None or weight_decay < 0:
        raise runner.error("weight_decay", "a number >= 0")
    return TrainConfig(runner.integer("max_epochs", 1, default.max_epochs),
                       runner.integer("batch_size", 1, default.batch_size), learning_rate,
                       runner.choice("optimizer", OPTIMIZERS, default.optimizer), weight_decay,
                       runner.integer("qat_epochs", 0, default.qat_epochs))


def _parse_runners(table: _Table) -> tuple[EvaluationConfig | None, BitwidthConfig | None]:
    evaluation = bitwidth = None
    sw = table.table("sw_runner", SW_RUNNER_TABLE, required=False)
    if sw is not None and "basic_evaluation" in sw.data:
        runner = sw.table("basic_evaluation", EVALUATION_TABLE)
        if "data_loader" in runner.data and "dataloader" in runner.data:
            raise ConfigError(f"{runner.where()} sets both `data_loader` and `dataloader`; keep one")
        loader_key = "dataloader" if "dataloader" in runner.data else "data_loader"
        loader = runner.choice(loader_key, tuple(DATA_LOADERS), default="val_dataloader")
        evaluation = EvaluationConfig(runner.integer("num_samples", 1), loader)
    hw = table.table("hw_runner", HW_RUNNER_TABLE, required=False)
    if hw is not None and "average_bitwidth" in hw.data:
        runner = hw.table("average_bitwidth", BITWIDTH_TABLE)
        compare_to = runner.number("compare_to", None, positive=True)
        if compare_to is None:
            raise runner.missing("compare_to", "32")
        bitwidth = BitwidthConfig(compare_to)
    return evaluation, bitwidth


def _parse_hardware_runners(table: _Table) -> HardwareRunners:
    """The hardware runners of the ``hw_runner`` table other than ``average_bitwidth``."""
    hw = table.table("hw_runner", HW_RUNNER_TABLE, required=False)
    if hw is None:
        return HardwareRunners()
    bitops = hw.table("bitops", BITOPS_TABLE, required=False) is not None
    estimate = hw.table("resource_estimate", ESTIMATE_TABLE, required=False)
    synthesis = hw.table("synthesis", SYNTHESIS_TABLE, required=False)
    if synthesis is not None and not synthesis.boolean("pareto_only", True):
        raise synthesis.error("pareto_only", "true: Yosys takes seconds to minutes a candidate, so it measures the "
                                             "final Pareto set; score every trial with [search.strategy.hw_runner."
                                             "resource_estimate]")
    return HardwareRunners(bitops, _hardware_build(estimate), _hardware_build(synthesis))


def _configured(bitwidth: BitwidthConfig | None, hardware: HardwareRunners) -> set[str]:
    """The names of the hardware runners the config has (the metrics it may name)."""
    present = {"average_bitwidth": bitwidth is not None, "bitops": hardware.bitops,
               "resource_estimate": hardware.estimate is not None, "synthesis": hardware.synthesis is not None}
    return {name for name, configured in present.items() if configured}


def _hardware_build(table: _Table | None) -> HardwareBuild | None:
    if table is None:
        return None
    fmt = table.data.get("input_format")
    if fmt is not None and not (isinstance(fmt, list) and len(fmt) in (2, 3)
                                and all(isinstance(n, int) and not isinstance(n, bool) for n in fmt)):
        raise table.error("input_format", "[width, frac] or [width, frac, signed] (integers, e.g. [8, 4])")
    return HardwareBuild(table.choice("pipeline", PIPELINES, default="layer"),
                         tuple(fmt) if fmt is not None else None, table.boolean("fold_batchnorm", True))


def _parse_metrics(table: _Table, summed: bool, has_sw: bool, hw_runners: set[str]) -> tuple[MetricConfig, ...]:
    metrics_table = table.table("metrics")
    known = {}
    for runner, names in [*SW_RUNNERS.items(), *HW_RUNNERS.items()]:
        for name in names:
            known[name] = runner
    available = [n for n, r in known.items() if (r in SW_RUNNERS and has_sw) or r in hw_runners]
    metrics = []
    for name in sorted(metrics_table.data):
        if name not in known:
            raise ConfigError(f"{metrics_table.where()} unknown metric `{name}`{did_you_mean(name, known)}; "
                              f"known: {', '.join(known)}")
        if name not in available:
            kind = "sw_runner" if known[name] in SW_RUNNERS else "hw_runner"
            raise ConfigError(f"{metrics_table.where()} metric `{name}` needs "
                              f"[search.strategy.{kind}.{known[name]}], which the config does not have")
        if known[name] in AFTER_SEARCH_RUNNERS:
            raise ConfigError(f"{metrics_table.where()} metric `{name}` is measured after the search, on the final "
                              "Pareto set only, so it cannot be an objective; use the estimate's "
                              f"{name.removeprefix('yosys_')} ([search.strategy.hw_runner.resource_estimate])")
        entry = _Table(table.source, f"{metrics_table.path}.{name}", metrics_table.data[name], METRIC_TABLE)
        scale = entry.number("scale", 1.0)
        if scale is None:
            raise entry.error("scale", "a number")
        direction = None
        if "direction" in entry.data:
            direction = entry.choice("direction", DIRECTIONS)
        elif not summed:
            raise entry.missing("direction", '"maximize"')
        metrics.append(MetricConfig(name, scale, direction))
    if not metrics:
        raise ConfigError(f"{metrics_table.where()} has no metrics; add e.g. accuracy.scale = 1.0 and "
                          'accuracy.direction = "maximize"')
    return tuple(metrics)


def parse_architecture_space(data: Mapping[str, Any], source: str,
                             path: str = "search.search_space") -> ArchitectureSpaceConfig:
    """``[search.search_space]`` of ``graph/architecture/channel_multiplier``: ``setup.by = "name"`` and the seeds.

    Each seed's ``config.channel_multiplier`` is a non-empty list of numbers > 0; which node a seed
    may name is checked against the graph (``ChannelMultiplierSpace``).
    """
    table = _Table(source, path, data, SPACE_TABLE)
    name = str(table.data.get("name", ""))
    if "setup" in table.data:
        table.table("setup", SPACE_SETUP_TABLE).choice("by", ("name",), default="name")
    seed_table = table.table("seed")
    multipliers = []
    for key, entry in seed_table.data.items():
        config = _Table(source, f"{seed_table.path}.{key}", entry, SEED_TABLE).table("config", ARCHITECTURE_SEED_KEYS)
        values = config.data.get("channel_multiplier")
        if values is None:
            raise config.missing("channel_multiplier", "[1, 2, 4]")
        if not isinstance(values, list) or not values or not all(
                not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v) and v > 0 for v in values):
            raise config.error("channel_multiplier", "a non-empty list of numbers > 0, e.g. [1, 2, 4]")
        multipliers.append((key, tuple(values)))
    if not multipliers:
        raise ConfigError(f"{seed_table.where()} has no seeds; add e.g. [{seed_table.path}.default.config] "
                          "with channel_multiplier = [1, 2, 4]")
    return ArchitectureSpaceConfig(name, tuple(multipliers))


def parse_combined_space(data: Mapping[str, Any], source: str) -> CombinedSpaceConfig:
    """``[search.search_space]`` of ``graph/architecture_quantize``: an ``architecture`` and a ``quantize`` table,
    each as its own space reads it."""
    table = _Table(source, "search.search_space", data, COMBINED_SPACE_TABLE)
    name = str(table.data["name"])
    for part, example in (("architecture", "seed.default.config.channel_multiplier = [1, 2]"),
                          ("quantize", 'setup.by = "type" and seed.linear.config')):
        if part not in table.data:
            raise ConfigError(f"{table.where()} is missing the table [{table.path}.{part}] (e.g. {example})")
    architecture = parse_architecture_space(table.table("architecture").data, source, f"{table.path}.architecture")
    quantize = table.table("quantize")
    quantize.data["name"] = name
    quantize_config = _parse_seeds(quantize)
    return CombinedSpaceConfig(name, architecture, quantize_config)
