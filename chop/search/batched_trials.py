"""Trials in batches: ask optuna for several points, score them together, tell each (``setup.batch_size``).

Each trial that ``study.optimize`` runs opens a batch: its own point first, then ``batch_size - 1``
more trials asked from the study (each sampled right after it is asked, so a seeded sampler
draws the points it would draw one at a time; TPE and the other model-based samplers see no
result of the batch until it is scored). The batch's new points are scored together by
``stacked.StackedScorer`` where the graph allows (else, and for each candidate it cannot stack,
one at a time), the extra trials are told to the study, and optimize tells the first. Points
already measured are not scored again. The finished trials reach the search's callback in trial
order, the first one first, as one-at-a-time trials do, so ``log.json`` and ``best.json`` are
those of the one-at-a-time path for the same points.

Optimize runs inside: ``timeout`` is checked between batches, and a sampler or a Ctrl-C can stop
the study (``study.stop()`` works inside optimize only). The grid sampler's batches never ask for
more points than the grid has left, so it still visits each point once and stops.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import optuna

from chop.search.stacked import StackedScorer, stacking_obstacle

if TYPE_CHECKING:
    from chop.search.strategy import Search

Callback = Callable[[optuna.Study, optuna.trial.FrozenTrial], None]


class TrialBatches:
    """The objective and callback that run a search's trials ``batch_size`` at a time."""

    def __init__(self, search: Search, batch_size: int) -> None:
        self.search, self.batch_size = search, batch_size
        obstacle = stacking_obstacle(search.graph, search.runners)
        self.scorer = StackedScorer(search.graph, search.runners) if obstacle is None else None
        self.obstacle = obstacle  # why every candidate is scored one at a time, or None
        self._asked = 0
        self._points: set[tuple[int, ...]] = set()
        self._told: list[optuna.trial.FrozenTrial] = []  # this batch's extra trials, for the callback

    def objective(self, trial: optuna.trial.Trial) -> float | list[float]:
        """Score ``trial`` and a batch of trials asked after it; optimize tells ``trial``, this the others."""
        search, study = self.search, trial.study
        size = min(self.batch_size, search.strategy.n_trials - self._asked)
        if search.strategy.sampler == "grid":  # never more than the grid has left: each point once
            size = max(1, min(size, search.space.size - len(self._points)))
        batch = [(trial, *search.sample(trial))]
        for _ in range(size - 1):
            extra = study.ask()
            batch.append((extra, *search.sample(extra)))
        self._asked += len(batch)
        if self._asked >= search.strategy.n_trials:
            study.stop()
        self._measure({point: config for _, point, config in batch if point not in search.measured})
        for extra, point, _ in batch[1:]:
            self._told.append(_tell(study, extra, lambda t=extra, p=point: search.score(t, p)))
        self._points.update(point for _, point, _ in batch)
        return search.score(trial, batch[0][1])

    def _measure(self, configs: dict[tuple[int, ...], dict[str, Any]]) -> None:
        """Measure new points together (stacked where possible) into the search's ``measured``."""
        if not configs:
            return
        search = self.search
        if self.scorer is None:
            results = [search.measure(config) for config in configs.values()]
        else:
            results = self.scorer.score(list(configs.values()), search.measure)
        search.measured.update(zip(configs, results))

    def then(self, after_trial: Callback) -> Callback:
        """Optimize's callback: ``after_trial`` for the batch's first trial, then for the trials told with it."""

        def callback(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            told, self._told = self._told, []
            for finished in (trial, *told):
                after_trial(study, finished)

        return callback


def _tell(study: optuna.Study, trial: optuna.trial.Trial, score: Callable[[], Any]) -> optuna.trial.FrozenTrial:
    """Tell ``trial``'s values, or PRUNED where ``score`` says its point is unusable."""
    try:
        values = score()
    except optuna.TrialPruned:
        return study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    return study.tell(trial, values)
