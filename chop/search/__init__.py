"""``ch search`` as a library call: mixed-precision post-training-quantisation search (lab-api §7).

``run_search(model, config, data, save_dir, seed)`` traces the float model once, builds the search
space over its quantisable nodes, runs the optuna strategy and writes ``log.json`` / ``best.json``
to ``save_dir`` (``{project_dir}/{project}/software/search_ckpts`` from the CLI); an earlier run's
``save_dir`` is first renamed to the next free ``search_ckpts-vN``. It works the same from a notebook; ``parse_search_config`` turns a TOML's ``[search]`` table into the config.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chop.search.config import SearchConfig, parse_search_config
from chop.search.strategy import SearchResult

__all__ = ["SearchConfig", "SearchOutcome", "SearchResult", "parse_search_config", "run_search"]


@dataclass(frozen=True)
class SearchOutcome:
    result: SearchResult
    space_size: int
    log_path: Path
    best_path: Path
    kept: Path | None = None  # where an earlier run in save_dir was moved, if there was one


def run_search(model: Any, config: SearchConfig, data: Any, save_dir: str | Path, seed: int = 0,
               source: str = "search config", on_trial: Callable[[SearchResult], None] | None = None) -> SearchOutcome:
    """Search ``config``'s space on ``model`` (float, trained) with ``data`` (a ``DatasetSplits``).

    ``source`` names the TOML in error messages; ``on_trial`` sees the result after every trial.
    """
    from chop.models.input_shape import input_shape_of
    from chop.workflows.transform import dummy_input, graph_with_metadata
    from chop.search.outputs import ThrottledWriter, write_results
    from chop.search.runners import Runners
    from chop.search.space import MixedPrecisionSpace
    from chop.search.strategy import Search
    from chop.tools.versions import keep_earlier_run

    input_shape = input_shape_of(model, data.x_train.shape[1])
    graph = graph_with_metadata(model, dummy_input(model, data.x_train))
    space = MixedPrecisionSpace(config.space, graph, source)
    runners = Runners(config.strategy, data, input_shape)
    kept = keep_earlier_run(Path(save_dir))
    writer = ThrottledWriter(save_dir)

    def after_trial(result: SearchResult) -> None:
        writer(result)
        if on_trial is not None:
            on_trial(result)

    result = Search(space, graph, runners, config.strategy, seed).run(after_trial)
    log_path, best_path = write_results(result, save_dir)
    return SearchOutcome(result, space.size, log_path, best_path, kept[0] if kept else None)
