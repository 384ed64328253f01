"""``ch search`` as a library call: a search space over a trained model, a strategy, runners (lab-api §7).

``run_search(model, config, data, save_dir, seed)`` traces the float model once, builds the search
space the config names (MASE's mixed-precision PTQ space, or a class of the user's own), runs the
strategy (optuna, brute force, or the user's) and writes ``log.json`` / ``best.json`` and the Pareto
plots (``pareto_<cost>.png``) to ``save_dir``
(``{project_dir}/{project}/software/search_ckpts`` from the CLI). An earlier run's files there are
first renamed to the next free ``log-vN.json`` / ``best-vN.json``. With ``storage`` (an optuna URL;
``ch search`` passes ``sqlite:///.../search_ckpts/study.sqlite``) the study is kept there: a rerun
resumes it, and workers given the same URL share it (``chop.search.storage``). It works the same from
a notebook; ``parse_search_config`` turns a TOML's ``[search]`` table into the config.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from chop.search.config import SearchConfig, parse_search_config
from chop.search.strategy_base import SearchResult

__all__ = ["SearchConfig", "SearchOutcome", "SearchResult", "parse_search_config", "run_search"]


@dataclass(frozen=True)
class SearchOutcome:
    result: SearchResult
    space_size: int
    log_path: Path
    best_path: Path
    kept: tuple[Path, ...] = ()       # where an earlier run's log.json / best.json / plots were moved
    storage: str | None = None        # the study's storage URL (None: in memory)
    study_name: str | None = None
    plots: tuple[Path, ...] = ()      # the Pareto plots written beside log.json


def run_search(model: Any, config: SearchConfig, data: Any, save_dir: str | Path, seed: int = 0,
               source: str = "search config", on_trial: Callable[[SearchResult], None] | None = None,
               storage: str | None = None, study_name: str | None = None,
               build: Callable[[], Any] | None = None, jobs: int | None = None) -> SearchOutcome:
    """Search ``config``'s space on ``model`` (float, trained) with ``data`` (a ``DatasetSplits``).

    ``source`` names the TOML in error messages; ``on_trial`` sees the result after every trial.
    ``storage`` keeps the study at that optuna URL under ``study_name`` (default: the model's class and
    the space's name), to resume or share it, when the strategy keeps one (``keeps_study``: the optuna ones).
    A space that retrains (the architecture spaces) trains its candidates from ``build``, a picklable
    factory of fresh untrained models (``model`` is then only traced), ``jobs`` architectures at once
    (default ``[search.strategy.setup] jobs``).
    """
    from chop.models.input_shape import input_shape_of
    from chop.search.fingerprint import search_fingerprint
    from chop.search.outputs import ThrottledWriter, keep_earlier_results, write_plots, write_results
    from chop.search.pareto_synthesis import synthesise_best
    from chop.search.runners import Runners
    from chop.search.storage import StudyPlace
    from chop.workflows.transform import dummy_input, graph_with_metadata

    input_shape = input_shape_of(model, data.x_train.shape[1])
    graph = graph_with_metadata(model, dummy_input(model, data.x_train))
    space = config.space_class()(config.space, graph, source)
    runners = Runners(config.strategy, data, input_shape, _training(config, build, data, seed, jobs, source))
    place = None
    if storage is not None:
        name = study_name or f"{type(model).__name__}/{config.space_name}"
        place = StudyPlace(storage, name, search_fingerprint(model, space, config.strategy, runners.rows, seed),
                           config.strategy.grace_period)
    save_dir = Path(save_dir)
    kept = keep_earlier_results(save_dir)
    writer = ThrottledWriter(save_dir)

    def after_trial(result: SearchResult) -> None:
        writer(result)
        if on_trial is not None:
            on_trial(result)

    strategy = config.strategy_class()(space, runners, config.strategy, seed, place)
    result = strategy.search(after_trial)
    if runners.synthesis is not None and not result.interrupted and result.best:
        write_results(result, save_dir)  # the search's results are saved before Yosys's minutes
        eval_mode = config.strategy.eval_mode
        graph_of = (partial(runners.training.candidate_graph, space) if runners.training is not None
                    else lambda sampled: space.rebuild_model(sampled, eval_mode))
        result = synthesise_best(result, graph_of, runners.synthesis)
    log_path, best_path = write_results(result, save_dir)
    plots = write_plots(result, save_dir)
    if place is None or not strategy.keeps_study:
        return SearchOutcome(result, space.size, log_path, best_path, kept, plots=plots)
    return SearchOutcome(result, space.size, log_path, best_path, kept, storage, place.name, plots)


def _training(config: SearchConfig, build: Callable[[], Any] | None, data: Any, seed: int, jobs: int | None,
              source: str) -> Any:
    """The basic_train runner of a space that retrains, else None."""
    from chop.errors import ConfigError
    from chop.search.basic_train import BasicTrain

    training = config.strategy.training
    if training is None:
        return None
    if build is None:
        raise ConfigError(f"{source}: [search.strategy.sw_runner.basic_train] trains fresh models: run_search needs "
                          "build, a factory of untrained models (e.g. functools.partial(get_model, \"jsc-toy\"))")
    return BasicTrain(build, data, training, seed, jobs if jobs is not None else config.strategy.jobs)
