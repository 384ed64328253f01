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

The study is in memory, or in an RDB storage (``StudyPlace``, see ``chop.search.storage``) that a
rerun resumes and several workers share. ``n_trials`` is then the study's total: a worker runs
trials until that many are finished or running, and the trial numbers optuna hands out one by one
decide, when two workers ask at once, which trial is one too many (it is failed unrun, marked
``surplus``). A worker that has nothing left to start waits for the trials others are running: a
lost one (kill -9) goes stale after the heartbeat's grace period and its point is queued again,
so the study always ends with exactly ``n_trials`` finished trials.
"""

from __future__ import annotations

import datetime
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import optuna
from optuna.trial import TrialState

from chop.search.batched_trials import TrialBatches
from chop.search.config import BRUTE_FORCE, StrategyConfig
from chop.search.storage import HEARTBEAT_S, StudyPlace, open_study
from chop.search.strategy_base import Leaderboard, Measured, SearchResult, SearchStrategyBase, TrialRecord

__all__ = ["BruteForceSearch", "Search", "SearchResult", "TrialRecord", "make_sampler", "stored_records"]

# [search.strategy.setup] sampler -> optuna's sampler class; ``grid`` and ``brute_force`` try every point once
SAMPLER_CLASSES: dict[str, type[optuna.samplers.BaseSampler]] = {
    "tpe": optuna.samplers.TPESampler, "random": optuna.samplers.RandomSampler,
    "nsgaii": optuna.samplers.NSGAIISampler, "nsgaiii": optuna.samplers.NSGAIIISampler,
    "qmc": optuna.samplers.QMCSampler, "grid": optuna.samplers.BruteForceSampler,
    "brute_force": optuna.samplers.BruteForceSampler,
}
SURPLUS = "surplus"  # user attr of a trial asked when the study already had n_trials: failed unrun
STARTED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


class _Surplus(Exception):
    """Raised by a trial that another worker's trials left no room for."""


def make_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    """The seeded optuna sampler for a (validated) ``[search.strategy.setup] sampler`` name."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return SAMPLER_CLASSES[name](seed=seed)


def _record(trial: optuna.trial.FrozenTrial) -> TrialRecord:
    attrs = trial.user_attrs
    values = tuple(trial.values) if trial.state == TrialState.COMPLETE else None
    return TrialRecord(trial.number, trial.state.name, values, attrs.get("software_metrics", {}),
                       attrs.get("hardware_metrics", {}), attrs.get("scaled_metrics", {}),
                       attrs.get("sampled_config", {}), attrs.get("error"), trial.datetime_start,
                       trial.datetime_complete)


def _logged(trial: optuna.trial.FrozenTrial) -> bool:
    """Whether a stored trial belongs in ``log.json``: finished or failed, and not a surplus one."""
    return trial.state in (*FINISHED, TrialState.FAIL) and not trial.user_attrs.get(SURPLUS)


def stored_records(study: optuna.Study) -> list[TrialRecord]:
    """The records of a stored study's trials that belong in ``log.json``, in trial order (``ch search --report``)."""
    return [_record(t) for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number) if _logged(t)]


def _lost(trial: optuna.trial.FrozenTrial, grace_period: float) -> bool:
    """A running trial without parameters long after it began: its worker died between ``ask`` and the objective.

    Optuna's heartbeat starts just before the objective, whose first step samples the parameters, so
    such a trial never goes stale; it is left as it is (failing a trial without parameters would break
    optuna's brute-force sampler for the whole study) and not counted.
    """
    return (trial.state == TrialState.RUNNING and not trial.params and trial.datetime_start is not None
            and (datetime.datetime.now() - trial.datetime_start).total_seconds() > grace_period)


class Search(SearchStrategyBase):
    """MASE's ``SearchStrategyOptuna``: optuna samples the space; ``study`` says where the study is kept."""

    keeps_study = True

    def __init__(self, space: Any, runners: Any, config: StrategyConfig, seed: int,
                 study: StudyPlace | None = None) -> None:
        super().__init__(space, runners, config, seed, study)
        self._records: list[TrialRecord] = []
        self._board = Leaderboard(config.directions)
        self._resumed = 0
        self._asked, self._surplus = 0, False  # trials the current optimize call asked; whether one was surplus
        # point -> (software, hardware) metrics, or the reason it is unusable: evaluation is
        # deterministic, and samplers revisit points (TPE on the 18-point example does so half the time)
        self.measured: dict[tuple[int, ...], Measured | str] = {}

    def sampler(self) -> optuna.samplers.BaseSampler:
        return make_sampler(self.config.sampler, self.seed)

    def n_trials(self) -> int:
        """How many finished trials the study is to have: ``n_trials``, at most the space's size for brute force."""
        exhaustive = self.config.sampler in BRUTE_FORCE
        return min(self.config.n_trials, self.space.size) if exhaustive else self.config.n_trials

    def objective(self, trial: optuna.trial.Trial) -> float | list[float]:
        point, config = self.sample(trial)
        if point not in self.measured:
            self.measured[point] = self.measure(config)
        return self.score(trial, point)

    def sample(self, trial: optuna.trial.Trial) -> tuple[tuple[int, ...], dict[str, Any]]:
        """The trial's point (one index per choice) and its config, kept on the trial; ``_Surplus`` if over budget."""
        indexes = {name: trial.suggest_int(name, 0, n - 1) for name, n in self.space.choice_lengths_flattened.items()}
        if self._over_budget(trial):
            trial.set_user_attr(SURPLUS, True)
            raise _Surplus
        config = self.space.flattened_indexes_to_config(indexes)
        trial.set_user_attr("sampled_config", config)
        return tuple(indexes.values()), config

    def score(self, trial: optuna.trial.Trial, point: tuple[int, ...]) -> float | list[float]:
        """The objective value(s) of a measured point; raises ``TrialPruned`` for an unusable one."""
        measured_point = self.measured[point]
        if isinstance(measured_point, str):
            trial.set_user_attr("error", measured_point)
            raise optuna.TrialPruned(measured_point)
        software, hardware = measured_point
        scaled, values = self.objectives(software, hardware)
        trial.set_user_attr("software_metrics", software)
        trial.set_user_attr("hardware_metrics", hardware)
        trial.set_user_attr("scaled_metrics", scaled)
        return values[0] if self.config.sum_scaled_metrics else list(values)

    def _over_budget(self, trial: optuna.trial.Trial) -> bool:
        """Whether ``n_trials`` trials came before this one (only another worker can have asked them meanwhile).

        Optuna numbers a study's trials one by one, atomically; those before this one that failed,
        or wait to be retried, do not count.
        """
        if self.study_place is None:
            return False
        others = trial.study.get_trials(deepcopy=False,
                                        states=(TrialState.FAIL, TrialState.WAITING, TrialState.RUNNING))
        not_counted = sum(t.number < trial.number and (t.state != TrialState.RUNNING or self._lost(t)) for t in others)
        return trial.number - not_counted >= self.n_trials()

    def _lost(self, trial: optuna.trial.FrozenTrial) -> bool:
        return self.study_place is not None and _lost(trial, self.study_place.grace_period)

    def left(self, study: optuna.Study) -> int:
        """How many more trials the study has room for (finished and running ones count)."""
        return self.n_trials() - self._count(study, STARTED)

    def _count(self, study: optuna.Study, states: tuple[TrialState, ...]) -> int:
        return sum(not self._lost(t) for t in study.get_trials(deepcopy=False, states=states))

    def search(self, on_trial: Callable[[SearchResult], None] | None = None) -> SearchResult:
        return self.run(on_trial)

    def run(self, on_trial: Callable[[SearchResult], None] | None = None) -> SearchResult:
        """Optimise; ``on_trial`` sees the result so far after every trial (e.g. to save ``log.json``).

        Ctrl-C stops the search after the trial in progress and returns the finished trials, marked
        ``interrupted``. The first SIGINT only sets a flag (see ``_stop_on_sigint``): a
        ``KeyboardInterrupt`` raised at a random point inside optuna could land in its bookkeeping
        (``study.tell``) and surface as an unrelated error, so ``ch search`` sometimes exited 1
        instead of 130. A second Ctrl-C, or a ``KeyboardInterrupt`` raised by code, stops at once.
        """
        stop = threading.Event()

        def after_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            self._asked += 1
            if trial.user_attrs.get(SURPLUS):
                self._surplus = True
                study.stop()
                return
            self._add(_record(trial))
            if on_trial is not None:
                on_trial(self._result())
            if stop.is_set():
                study.stop()

        # optuna logs every trial (and a traceback for an interrupted one); the records say it all
        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        study = None
        try:
            study = self._open()
            with _stop_on_sigint(stop):
                self._optimise(study, stop, after_trial)
        except KeyboardInterrupt:
            return self._final(study, interrupted=True)
        finally:
            optuna.logging.set_verbosity(verbosity)
        return self._final(study, interrupted=stop.is_set())

    def _open(self) -> optuna.Study:
        """The study, new or resumed; the trials it already has are the first records."""
        directions = list(self.config.directions)
        if self.study_place is None:
            study = optuna.create_study(sampler=self.sampler(), directions=directions)
        else:
            study = open_study(self.study_place, self.sampler(), directions)
        self._records, self._board = [], Leaderboard(self.config.directions)
        for trial in study.get_trials(deepcopy=False):
            if _logged(trial):
                self._add(_record(trial))
        self._resumed = len(self._records)
        self._start = time.perf_counter()
        return study

    def _optimise(self, study: optuna.Study, stop: threading.Event, after_trial: Callable[..., None]) -> None:
        """Run trials until ``n_trials`` are finished, the sampler has no point left, time is up or Ctrl-C."""
        deadline = None if self.config.timeout is None else time.monotonic() + self.config.timeout
        # batch_size > 1: each trial optimize runs opens a batch of trials scored together
        batches = TrialBatches(self, self.config.batch_size) if self.config.batch_size > 1 else None
        objective = self.objective if batches is None else batches.objective
        callback = after_trial if batches is None else batches.then(after_trial)
        while not stop.is_set():
            left = self.left(study)
            if left > 0:
                self._asked, self._surplus = 0, False
                study.optimize(objective, n_trials=left, callbacks=[callback], catch=(_Surplus,),
                               timeout=None if deadline is None else max(deadline - time.monotonic(), 0.0))
                if not self._surplus and self._asked < left:
                    return  # the sampler stopped the study (every point visited), the time is up, or Ctrl-C
                continue  # all asked, or another worker took the last places: count again
            if self.study_place is None or self._count(study, FINISHED) >= self.n_trials():
                return
            if deadline is not None and time.monotonic() >= deadline:
                return
            # trials of other workers are running, or of a lost one that will go stale and be queued again
            time.sleep(HEARTBEAT_S)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.storages.fail_stale_trials(study)

    def _add(self, record: TrialRecord) -> None:
        self._records.append(record)
        self._board.add(record)

    def _final(self, study: optuna.Study | None, interrupted: bool) -> SearchResult:
        """Every trial of the study (those of other workers too), in trial order."""
        if study is not None and self.study_place is not None:
            self._records, self._board = [], Leaderboard(self.config.directions)
            for trial in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
                if _logged(trial):
                    self._add(_record(trial))
        return self._result(interrupted)

    def _result(self, interrupted: bool = False) -> SearchResult:
        return SearchResult(tuple(self._records), tuple(self._board.best), self.config.metric_names,
                            len(self.config.directions) > 1, time.perf_counter() - self._start, interrupted,
                            self._resumed)


class BruteForceSearch(Search):
    """``[search.strategy] name = "brute_force"`` (lab 3 Q3): every point of the space once, whatever ``sampler``
    says."""

    def sampler(self) -> optuna.samplers.BaseSampler:
        return make_sampler("brute_force", self.seed)

    def n_trials(self) -> int:
        return min(self.config.n_trials, self.space.size)


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
