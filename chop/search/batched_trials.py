"""Trials in batches: ask optuna for several points, score them together, tell each (``setup.batch_size``).

Each trial that ``study.optimize`` runs opens a batch: its own point first, then up to
``batch_size - 1`` more trials asked from the study, as many as the study has room for (each
sampled right after it is asked, so a seeded sampler draws the points it would draw one at a
time; TPE and the other model-based samplers see no result of the batch until it is scored). The
batch's new points are scored together by ``stacked.StackedScorer`` where the space and graph
allow (else, and for each candidate it cannot stack, one at a time), the extra trials are told
to the study, and optimize tells the first. Points already measured are not scored again. The
finished trials reach the search's callback in trial order, the first one first, as one-at-a-time
trials do, so ``log.json`` and ``best.json`` are those of the one-at-a-time path for the same points.

Optimize runs around it: ``timeout`` is checked between batches, and a sampler, a Ctrl-C or the
search's budget can stop the study (``study.stop()`` works inside optimize only). A batch never
asks for more trials than ``n_trials`` (for brute force, the space) leaves room for, so the grid
still visits each point once and stops; an extra trial over another worker's budget is failed
unrun (``surplus``), as a one-at-a-time one is.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import optuna
from optuna.storages._heartbeat import get_heartbeat_thread  # what optimize itself uses for its trials

from chop.search.space import MixedPrecisionSpace
from chop.search.stacked import StackedScorer, stacking_obstacle

if TYPE_CHECKING:
    from chop.search.strategy import Search

Callback = Callable[[optuna.Study, optuna.trial.FrozenTrial], None]


def batch_obstacle(search: Search) -> str | None:
    """Why ``search``'s candidates cannot be scored stacked (then they are scored one at a time), or None."""
    if not isinstance(search.space, MixedPrecisionSpace):
        return f"the space {type(search.space).__name__} is not graph/quantize/mixed_precision_ptq"
    return stacking_obstacle(search.space.graph, search.runners)


class TrialBatches:
    """The objective and callback that run a search's trials ``batch_size`` at a time."""

    def __init__(self, search: Search, batch_size: int) -> None:
        self.search, self.batch_size = search, batch_size
        self.obstacle = batch_obstacle(search)  # why every candidate is scored one at a time, or None
        self.scorer = StackedScorer(search.space.graph, search.runners) if self.obstacle is None else None
        self._told: list[optuna.trial.FrozenTrial] = []  # this batch's extra trials, for the callback

    def objective(self, trial: optuna.trial.Trial) -> float | list[float]:
        """Score ``trial`` and a batch of trials asked after it; optimize tells ``trial``, this the others."""
        from chop.search.strategy import _Surplus  # here: the strategy module imports this one

        search, study = self.search, trial.study
        batch = [(trial, *search.sample(trial))]
        with ExitStack() as heartbeats:
            for _ in range(min(self.batch_size - 1, search.left(study))):
                extra = study.ask()
                # as optimize does for its trial: a kill -9 leaves a stale trial that a rerun retries
                heartbeats.enter_context(get_heartbeat_thread(extra._trial_id, study._storage))
                try:
                    batch.append((extra, *search.sample(extra)))
                except _Surplus:  # over another worker's budget: failed unrun, as optimize does
                    self._told.append(study.tell(extra, state=optuna.trial.TrialState.FAIL))
                    break
            if search.left(study) <= 0:
                study.stop()
            self._measure({point: config for _, point, config in batch if point not in search.measured})
            for extra, point, _ in batch[1:]:
                self._told.append(_tell(study, extra, lambda t=extra, p=point: search.score(t, p)))
        return search.score(trial, batch[0][1])

    def _measure(self, configs: dict[tuple[int, ...], dict[str, Any]]) -> None:
        """Measure new points together (stacked where possible) into the search's ``measured``."""
        search = self.search
        if not configs:
            return
        if self.scorer is None:
            results = search.measure_many(list(configs.values()))
        else:
            results = self.scorer.score(list(configs.values()), search.measure, search.measure_hardware)
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
