"""MASE's optuna search strategy: sample a point, quantise a copy of the graph, measure, score.

Each trial samples one index per flattened choice (``trial.suggest_int(name, 0, len - 1)``, as
MASE does), copies what quantisation changes of the float graph traced once at the start
(``trial_graph``: no re-tracing, no full copy), quantises the copy and runs the configured
runners. A point sampled again reuses its measured metrics (the evaluation is deterministic),
though it still counts as a trial, as in optuna. Metrics are scaled by ``metrics.<name>.scale``
and, in MASE's order (metric names sorted), either summed into one objective
(``sum_scaled_metrics = true``, direction from the setup) or kept as separate objectives whose
best trials are the Pareto set. Every sampler is seeded with the run's ``--seed``, so a search is
reproducible.

A point whose combination of choices no quantiser accepts (e.g. a frac width above the width)
ends its trial as PRUNED, with the reason kept in the trial's ``error`` attribute.
"""

from __future__ import annotations

import datetime
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import optuna

from chop.errors import PassError
from chop.passes.graph.transforms.quantize import quantize_transform_pass
from chop.search.batched_trials import TrialBatches
from chop.search.config import StrategyConfig
from chop.search.runners import Runners
from chop.search.space import MixedPrecisionSpace
from chop.search.trial_graph import trial_graph


@dataclass(frozen=True)
class TrialRecord:
    """One finished (or interrupted) trial, in the terms MASE's ``log.json`` uses."""

    number: int
    state: str                            # COMPLETE, PRUNED (unusable point) or FAIL (interrupted)
    values: tuple[float, ...] | None      # the objective values, None unless COMPLETE
    software_metrics: dict[str, float]
    hardware_metrics: dict[str, float]
    scaled_metrics: dict[str, float]
    sampled_config: dict[str, Any]
    error: str | None
    datetime_start: datetime.datetime | None
    datetime_complete: datetime.datetime | None


@dataclass(frozen=True)
class SearchResult:
    trials: tuple[TrialRecord, ...]
    best: tuple[TrialRecord, ...]         # the best trial, or the Pareto set of a multi-objective search
    metric_names: tuple[str, ...]
    multi_objective: bool
    seconds: float
    interrupted: bool = False


# [search.strategy.setup] sampler -> optuna's sampler class; ``grid`` tries every point once
SAMPLER_CLASSES: dict[str, type[optuna.samplers.BaseSampler]] = {
    "tpe": optuna.samplers.TPESampler, "random": optuna.samplers.RandomSampler,
    "nsgaii": optuna.samplers.NSGAIISampler, "nsgaiii": optuna.samplers.NSGAIIISampler,
    "qmc": optuna.samplers.QMCSampler, "grid": optuna.samplers.BruteForceSampler,
}


def make_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    """The seeded optuna sampler for a (validated) ``[search.strategy.setup] sampler`` name."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return SAMPLER_CLASSES[name](seed=seed)


def _record(trial: optuna.trial.FrozenTrial) -> TrialRecord:
    attrs = trial.user_attrs
    values = tuple(trial.values) if trial.state == optuna.trial.TrialState.COMPLETE else None
    return TrialRecord(trial.number, trial.state.name, values, attrs.get("software_metrics", {}),
                       attrs.get("hardware_metrics", {}), attrs.get("scaled_metrics", {}),
                       attrs.get("sampled_config", {}), attrs.get("error"), trial.datetime_start,
                       trial.datetime_complete)


class Search:
    """One search: a space over a traced float graph, the runners and the strategy settings."""

    def __init__(self, space: MixedPrecisionSpace, graph: Any, runners: Runners, strategy: StrategyConfig,
                 seed: int) -> None:
        self.space, self.graph, self.runners, self.strategy, self.seed = space, graph, runners, strategy, seed
        self._records: list[TrialRecord] = []
        self._best: list[TrialRecord] = []
        self._start = time.perf_counter()
        # point -> (software, hardware) metrics, or the reason it is unusable: evaluation is
        # deterministic, and samplers revisit points (TPE on the 18-point example does so half the time)
        self.measured: dict[tuple[int, ...], tuple[dict[str, float], dict[str, float]] | str] = {}

    def objective(self, trial: optuna.trial.Trial) -> float | list[float]:
        point, config = self.sample(trial)
        if point not in self.measured:
            self.measured[point] = self.measure(config)
        return self.score(trial, point)

    def sample(self, trial: optuna.trial.Trial) -> tuple[tuple[int, ...], dict[str, Any]]:
        """The trial's point (one index per choice) and its quantise-pass config, kept on the trial."""
        indexes = {c.name: trial.suggest_int(c.name, 0, len(c.values) - 1) for c in self.space.choices}
        config = self.space.pass_config(indexes)
        trial.set_user_attr("sampled_config", config)
        return tuple(indexes.values()), config

    def score(self, trial: optuna.trial.Trial, point: tuple[int, ...]) -> float | list[float]:
        """The objective value(s) of a measured point; raises ``TrialPruned`` for an unusable one."""
        measured_point = self.measured[point]
        if isinstance(measured_point, str):
            trial.set_user_attr("error", measured_point)
            raise optuna.TrialPruned(measured_point)
        software, hardware = measured_point
        measured = software | hardware
        scaled = {m.name: m.scale * measured[m.name] for m in self.strategy.metrics}
        trial.set_user_attr("software_metrics", software)
        trial.set_user_attr("hardware_metrics", hardware)
        trial.set_user_attr("scaled_metrics", scaled)
        if self.strategy.sum_scaled_metrics:
            return sum(scaled.values())
        return list(scaled.values())

    def measure(self, config: dict[str, Any]) -> tuple[dict[str, float], dict[str, float]] | str:
        """Quantise a copy of the float graph as ``config`` says and run the runners on it."""
        graph = trial_graph(self.graph, self.space.nodes, shares_modules=self.strategy.eval_mode)
        try:
            graph, _ = quantize_transform_pass(graph, config)
        except PassError as error:
            return str(error)
        return self.runners.software(graph), self.runners.hardware(graph)

    def run(self, on_trial: Callable[[SearchResult], None] | None = None) -> SearchResult:
        """Optimise; ``on_trial`` sees the result so far after every trial (e.g. to save ``log.json``).

        Ctrl-C stops the search after the trial in progress and returns the finished trials, marked
        ``interrupted``. The first SIGINT only sets a flag (see ``_stop_on_sigint``): a
        ``KeyboardInterrupt`` raised at a random point inside optuna could land in its bookkeeping
        (``study.tell``) and surface as an unrelated error, so ``ch search`` sometimes exited 1
        instead of 130. A second Ctrl-C, or a ``KeyboardInterrupt`` raised by code, stops at once.
        """
        stop = threading.Event()
        batches = TrialBatches(self, self.strategy.batch_size) if self.strategy.batch_size > 1 else None

        def after_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            self._add(_record(trial))
            if on_trial is not None:
                on_trial(self._result())
            if stop.is_set():
                study.stop()

        # optuna logs every trial (and a traceback for an interrupted one); the records say it all
        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        try:
            study = optuna.create_study(sampler=make_sampler(self.strategy.sampler, self.seed),
                                        directions=list(self.strategy.directions))
            self._records, self._best, self._start = [], [], time.perf_counter()
            with _stop_on_sigint(stop):
                if batches is None:
                    study.optimize(self.objective, n_trials=self.strategy.n_trials, timeout=self.strategy.timeout,
                                   callbacks=[after_trial])
                else:  # each trial optimize runs opens a batch of trials scored together
                    study.optimize(batches.objective, timeout=self.strategy.timeout,
                                   callbacks=[batches.then(after_trial)])
        except KeyboardInterrupt:
            return self._result(interrupted=True)
        finally:
            optuna.logging.set_verbosity(verbosity)
        return self._result(interrupted=stop.is_set())

    def _add(self, record: TrialRecord) -> None:
        """Keep the trials and, incrementally, the best one or the Pareto set (optuna's own ties rules)."""
        self._records.append(record)
        if record.values is None:
            return
        directions = self.strategy.directions
        if len(directions) == 1:
            if not self._best or _dominates(record.values, self._best[0].values, directions):
                self._best = [record]
            return
        if any(_dominates(b.values, record.values, directions) for b in self._best):
            return
        self._best = [b for b in self._best if not _dominates(record.values, b.values, directions)] + [record]

    def _result(self, interrupted: bool = False) -> SearchResult:
        multi = len(self.strategy.directions) > 1
        return SearchResult(tuple(self._records), tuple(self._best), self.strategy.metric_names, multi,
                            time.perf_counter() - self._start, interrupted)


@contextmanager
def _stop_on_sigint(stop: threading.Event) -> Iterator[None]:
    """While the block runs, the first SIGINT sets ``stop``; the next one raises ``KeyboardInterrupt`` as usual.

    Signal handlers can only be set from the main thread; elsewhere SIGINT never reaches the block.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def request_stop(signum: int, frame: Any) -> None:
        stop.set()
        signal.signal(signal.SIGINT, previous)

    previous = signal.signal(signal.SIGINT, request_stop) or signal.default_int_handler  # None: set outside Python
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _dominates(a: tuple[float, ...], b: tuple[float, ...], directions: tuple[str, ...]) -> bool:
    """``a`` is no worse than ``b`` in every objective and better in one (one objective: strictly better)."""
    better = no_worse = 0
    for x, y, direction in zip(a, b, directions):
        if x == y:
            no_worse += 1
        elif (x > y) == (direction == "maximize"):
            better += 1
            no_worse += 1
    return no_worse == len(directions) and better > 0
