"""What every search strategy is (MASE's ``SearchStrategyBase``): it samples a space and measures points.

A strategy is built with the space, the runners (what a trial measures), the parsed
``[search.strategy]`` table, the run's seed and ``study`` (a ``StudyPlace``: where the optuna
strategies keep their study); ``search()`` returns a :class:`SearchResult`, which ``ch search``
writes to ``log.json`` / ``best.json``. The base does the parts every strategy shares:
``evaluate(number, indexes)`` measures one point into a :class:`TrialRecord` (a point no quantiser
accepts is ``PRUNED`` with the reason), and ``result(records)`` keeps the best trial, or the Pareto
set of several objectives. A strategy of the user's own is a subclass in their file, named in the
TOML as ``[search.strategy] name = "my_strategy.py:MyStrategy"``; its ``setup_keys`` are extra
``[search.strategy.setup]`` keys it reads from ``config.options``.
"""

from __future__ import annotations

import datetime
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from chop.errors import PassError
from chop.search.config import StrategyConfig
from chop.search.space_base import SearchSpaceBase
from chop.search.storage import StudyPlace

Measured = tuple[dict[str, float], dict[str, float]]


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
    resumed: int = 0                      # trials the study already had when this run began (in ``trials`` too)


class Leaderboard:
    """The best trial so far, or the Pareto set, kept incrementally (optuna's own ties rules)."""

    def __init__(self, directions: tuple[str, ...]) -> None:
        self.directions = directions
        self.best: list[TrialRecord] = []

    def add(self, record: TrialRecord) -> None:
        if record.values is None:
            return
        if len(self.directions) == 1:
            if not self.best or dominates(record.values, self.best[0].values, self.directions):
                self.best = [record]
            return
        if any(dominates(b.values, record.values, self.directions) for b in self.best):
            return
        self.best = [b for b in self.best if not dominates(record.values, b.values, self.directions)] + [record]


def dominates(a: tuple[float, ...], b: tuple[float, ...], directions: tuple[str, ...]) -> bool:
    """``a`` is no worse than ``b`` in every objective and better in one (one objective: strictly better)."""
    better = no_worse = 0
    for x, y, direction in zip(a, b, directions):
        if x == y:
            no_worse += 1
        elif (x > y) == (direction == "maximize"):
            better += 1
            no_worse += 1
    return no_worse == len(directions) and better > 0


class SearchStrategyBase(ABC):
    """Subclasses implement ``search``; ``_post_init_setup`` (optional, as in MASE) runs at the end of ``__init__``."""

    setup_keys: ClassVar[tuple[str, ...]] = ()
    keeps_study: ClassVar[bool] = False  # whether ``search`` keeps its trials at ``study`` (to resume, to share)

    def __init__(self, space: SearchSpaceBase, runners: Any, config: StrategyConfig, seed: int,
                 study: StudyPlace | None = None) -> None:
        self.space, self.runners, self.config, self.seed = space, runners, config, seed
        self.study_place = study  # where the optuna strategies keep their study (None: in memory)
        self._start = time.perf_counter()
        self._post_init_setup()

    def _post_init_setup(self) -> None:
        """Extra setup (MASE's hook); nothing by default."""

    @abstractmethod
    def search(self, on_trial: Callable[[SearchResult], None] | None = None) -> SearchResult:
        """Search the space; ``on_trial`` sees the result so far after every trial (``ch search`` saves it)."""

    def measure(self, sampled_config: dict[str, Any]) -> Measured | str:
        """``(software, hardware)`` metrics of one sampled config, or why no model (or design) could be built from it.

        The hardware metrics come first: a candidate the hardware flow refuses is not evaluated.
        """
        if self.runners.training is not None:
            return self.measure_many([sampled_config])[0]
        graph = self._rebuild(sampled_config)
        if isinstance(graph, str):
            return graph
        hardware = self.runners.hardware_or_reason(graph)
        if isinstance(hardware, str):
            return hardware
        return self.runners.software(graph), hardware

    def measure_hardware(self, sampled_config: dict[str, Any]) -> dict[str, float] | str:
        """The hardware metrics of one sampled config (its quantised graph built for them), or why it has none."""
        graph = self._rebuild(sampled_config)
        return graph if isinstance(graph, str) else self.runners.hardware_or_reason(graph)

    def _rebuild(self, sampled_config: dict[str, Any]) -> Any:
        try:
            return self.space.rebuild_model(sampled_config, self.config.eval_mode)
        except PassError as error:
            return str(error)

    def measure_many(self, sampled_configs: Sequence[dict[str, Any]]) -> list[Measured | str]:
        """:meth:`measure` of each config; a space that retrains has its batch trained together (basic_train)."""
        if self.runners.training is not None:
            return self.runners.training.measure(self.space, sampled_configs, self.runners)
        return [self.measure(config) for config in sampled_configs]

    def objectives(self, software: Mapping[str, float],
                   hardware: Mapping[str, float]) -> tuple[dict[str, float], tuple[float, ...]]:
        """The scaled metrics and the objective values: their sum, or one per metric (MASE's sorted order)."""
        measured = {**software, **hardware}
        scaled = {m.name: m.scale * measured[m.name] for m in self.config.metrics}
        values = (sum(scaled.values()),) if self.config.sum_scaled_metrics else tuple(scaled.values())
        return scaled, values

    def evaluate(self, number: int, indexes: Mapping[str, int]) -> TrialRecord:
        """Trial ``number``: the point ``indexes`` (``{choice name: index}``) built, measured and scored."""
        start = datetime.datetime.now()
        sampled = self.space.flattened_indexes_to_config(indexes)
        measured = self.measure(sampled)
        if isinstance(measured, str):
            return TrialRecord(number, "PRUNED", None, {}, {}, {}, sampled, measured, start, datetime.datetime.now())
        software, hardware = measured
        scaled, values = self.objectives(software, hardware)
        return TrialRecord(number, "COMPLETE", values, software, hardware, scaled, sampled, None, start,
                           datetime.datetime.now())

    def result(self, records: Iterable[TrialRecord], interrupted: bool = False) -> SearchResult:
        """The search's result over ``records``: every trial, and the best one or the Pareto set."""
        records = tuple(records)
        board = Leaderboard(self.config.directions)
        for record in records:
            board.add(record)
        return SearchResult(records, tuple(board.best), self.config.metric_names, len(self.config.directions) > 1,
                            time.perf_counter() - self._start, interrupted)
