"""``[search.strategy.hw_runner.synthesis]``: Yosys on the final Pareto set, after the search.

Synthesis takes seconds (jsc-tiny) to minutes (jsc-s) a candidate, so the trials are scored with
the calibrated estimate and only the few best ones (the Pareto set, or the one best trial) are
synthesised: each is rebuilt from its sampled config (the graph its other metrics were measured
on: for a space that retrains, the trained candidate, not the untrained one the space's
``rebuild_model`` gives), emitted and put through Yosys
(``synthesised_resources``), and its ``yosys_luts``/``ffs``/``dsps``/``carry4`` join its hardware
metrics, in ``best.json``, ``log.json`` and the table. A candidate the flow cannot build keeps
its metrics without them, with a warning naming the trial and the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from chop.errors import MachopError
from chop.search.hardware_metrics import HardwareSettings, synthesised_resources
from chop.search.strategy_base import SearchResult, TrialRecord
from chop.tools.logger import get_logger

log = get_logger(__name__)


def synthesise_best(result: SearchResult, graph_of: Callable[[dict[str, Any]], Any],
                    settings: HardwareSettings) -> SearchResult:
    """``result`` with the Yosys metrics of each of its best trials added to that trial's hardware metrics.

    ``graph_of`` rebuilds a trial's measured graph from its sampled config.
    """
    measured: dict[int, TrialRecord] = {}
    for trial in result.best:
        try:
            graph = graph_of(trial.sampled_config)
            yosys = synthesised_resources(graph, settings)
        except MachopError as error:
            log.warning("trial %d of the Pareto set is not synthesised: %s", trial.number, error)
            continue
        measured[trial.number] = replace(trial, hardware_metrics=trial.hardware_metrics | yosys)
    if not measured:
        return result
    return replace(result, trials=tuple(measured.get(t.number, t) for t in result.trials),
                   best=tuple(measured.get(t.number, t) for t in result.best))
