"""``search_ckpts/log.json``, ``best.json`` and the "Best trial(s)" table, in MASE's shapes.

MASE writes both files with pandas (``orient="index"``): an object keyed ``"0"``, ``"1"``, ... whose
log entries are optuna's trial-dataframe columns (``number``, ``value`` or ``values_0``,
``values_1``, ... in sorted-metric order, ``user_attrs_*``, ``state``, ``datetime_*`` in ms since
the epoch, ``duration`` in ms) and whose best entries are ``number``, ``value`` (a list for a
Pareto set), ``software_metrics``, ``hardware_metrics``, ``scaled_metrics``, ``sampled_config``.
Both are rewritten atomically, so a killed search leaves complete, readable files. A new run first
renames the earlier run's pair to the next free ``log-vN.json`` / ``best-vN.json`` (one N for both),
while the study file beside them (``study.sqlite``) stays where it is, to be resumed.

Beside them, ``pareto_<cost>.png``: accuracy against each hardware cost the trials measured
(``luts``, ``bitops``, ``average_bitwidth``), kept with the same N as the pair.
"""

from __future__ import annotations

import datetime
import json
import os
import time
from pathlib import Path
from typing import Any

from chop.errors import MachopError
from chop.search.plots import pareto_plot
from chop.search.strategy import SearchResult, TrialRecord
from chop.tools.atomic import atomic_write_text
from chop.tools.logger import get_logger
from chop.tools.versions import versioned_name, versions

log = get_logger(__name__)

LOG_FILE = "log.json"
BEST_FILE = "best.json"
PARETO_COSTS = ("luts", "bitops", "average_bitwidth")  # plotted against accuracy when the trials measured them
ACCURACY = "accuracy"


def pareto_file(cost: str) -> str:
    return f"pareto_{cost}.png"


RESULT_FILES = (LOG_FILE, BEST_FILE, *(pareto_file(cost) for cost in PARETO_COSTS))


def _ms(moment: datetime.datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def log_entry(trial: TrialRecord, multi_objective: bool, objectives: int) -> dict[str, Any]:
    """One trial as a row of MASE's ``log.json``."""
    entry: dict[str, Any] = {"number": trial.number}
    if multi_objective:
        for i in range(objectives):
            entry[f"values_{i}"] = trial.values[i] if trial.values is not None else None
    else:
        entry["value"] = trial.values[0] if trial.values is not None else None
    entry["user_attrs_hardware_metrics"] = trial.hardware_metrics
    entry["user_attrs_sampled_config"] = trial.sampled_config
    entry["user_attrs_scaled_metrics"] = trial.scaled_metrics
    entry["user_attrs_software_metrics"] = trial.software_metrics
    if trial.error is not None:
        entry["user_attrs_error"] = trial.error
    start, complete = _ms(trial.datetime_start), _ms(trial.datetime_complete)
    entry.update(state=trial.state, datetime_start=start, datetime_complete=complete,
                 duration=complete - start if start is not None and complete is not None else None)
    return entry


def log_json(result: SearchResult) -> dict[str, dict[str, Any]]:
    objectives = 1 if not result.multi_objective else len(result.metric_names)
    return {str(i): log_entry(t, result.multi_objective, objectives) for i, t in enumerate(result.trials)}


def best_json(result: SearchResult) -> dict[str, dict[str, Any]]:
    """The best trial (single objective) or every Pareto-optimal trial (several objectives)."""
    rows = {}
    for i, trial in enumerate(result.best):
        value: Any = list(trial.values) if result.multi_objective else trial.values[0]
        rows[str(i)] = {"number": trial.number, "value": value, "software_metrics": trial.software_metrics,
                        "hardware_metrics": trial.hardware_metrics, "scaled_metrics": trial.scaled_metrics,
                        "sampled_config": trial.sampled_config}
    return rows


def keep_earlier_results(directory: str | Path) -> tuple[Path, ...]:
    """Rename an earlier run's ``log.json`` / ``best.json`` (and plots) to ``log-vN.json`` / ``best-vN.json``
    (``pareto_luts-vN.png``...); returns where they went."""
    directory = Path(directory)
    files = [directory / name for name in RESULT_FILES if (directory / name).exists()]
    if not files:
        return ()
    version = 1 + max(v for name in RESULT_FILES for v in versions(directory, Path(name).stem, Path(name).suffix))
    kept = []
    for path in files:
        target = directory / versioned_name(path.stem, version, path.suffix)
        try:
            os.rename(path, target)
        except OSError as error:
            raise MachopError(f"cannot move the earlier run's {path} aside to {target}: "
                              f"{error.strerror or error}") from None
        kept.append(target)
    log.info("earlier run kept: %s", ", ".join(f"{path} -> {target.name}" for path, target in zip(files, kept)))
    return tuple(kept)


def write_results(result: SearchResult, directory: str | Path) -> tuple[Path, Path]:
    """Write ``log.json`` and ``best.json`` into ``directory`` (atomically); returns their paths."""
    directory = Path(directory)
    log_path, best_path = directory / LOG_FILE, directory / BEST_FILE
    atomic_write_text(log_path, json.dumps(log_json(result), indent=4) + "\n")
    atomic_write_text(best_path, json.dumps(best_json(result), indent=4) + "\n")
    return log_path, best_path


def completed_metrics(result: SearchResult) -> list[dict[str, float]]:
    """The software and hardware metrics of every completed trial, in trial order (what the plots read)."""
    return [t.software_metrics | t.hardware_metrics for t in result.trials if t.state == "COMPLETE"]


def write_plots(result: SearchResult, directory: str | Path) -> tuple[Path, ...]:
    """``pareto_<cost>.png`` in ``directory`` for each of ``PARETO_COSTS`` the trials measured with accuracy."""
    trials = completed_metrics(result)
    paths = []
    for cost in PARETO_COSTS:
        if any(cost in trial and ACCURACY in trial for trial in trials):
            path = Path(directory) / pareto_file(cost)
            pareto_plot(trials, cost, path, ACCURACY)
            paths.append(path)
    return tuple(paths)


class ThrottledWriter:
    """Saves the results after a trial when ``every_s`` seconds have passed since the last save.

    Rewriting and fsyncing the whole log after each of thousands of sub-millisecond trials would
    cost more than the trials; a crash loses at most ``every_s`` seconds of them.
    """

    def __init__(self, directory: str | Path, every_s: float = 1.0) -> None:
        self.directory = Path(directory)
        self.every_s = every_s
        self.last = time.monotonic()

    def __call__(self, result: SearchResult) -> None:
        if time.monotonic() - self.last >= self.every_s:
            write_results(result, self.directory)
            self.last = time.monotonic()


TABLE_WIDTH = 100  # a pipe's width (chop.tools.console): each table of the best trials fits it


def best_tables(result: SearchResult, width: int = TABLE_WIDTH) -> list[Any]:
    """The "Best trial(s)" table: trial number, then one column per measured metric and per objective.

    MASE prints each trial's three metric dicts as text in three cells, which wraps into unreadable
    rows in an 80-column terminal; one number per column reads at a glance. ``best.json`` keeps
    MASE's dicts. With many metrics (hardware objectives add up to eight) the columns are split
    over several tables, each starting with the trial number and none wider than ``width``, so no
    header or value is ever cut.
    """
    from rich.table import Table

    measured: list[str] = []
    for trial in result.best:
        for name in (*trial.software_metrics, *trial.hardware_metrics):
            if name not in measured:
                measured.append(name)
    objectives = ["objective"] if not result.multi_objective else [f"scaled {m}" for m in result.metric_names]
    cells: dict[str, list[str]] = {"number": [str(trial.number) for trial in result.best]}
    for name in measured:
        cells[name] = [_number((trial.software_metrics | trial.hardware_metrics).get(name)) for trial in result.best]
    for k, name in enumerate(objectives):
        cells[name] = [_number(trial.values[k]) if trial.values else "" for trial in result.best]
    groups = _column_groups(cells, width)
    tables = []
    for i, group in enumerate(groups):
        title = "Best trial(s)" if len(groups) == 1 else f"Best trial(s), {i + 1} of {len(groups)}"
        table = Table(title=title)
        for name in ("number", *group):  # a header wraps at its spaces; no word and no value is cut
            width = _column_width(name, cells[name])
            table.add_column(_wrapped(name, width), justify="right", width=width, no_wrap=True)
        for row in range(len(result.best)):
            table.add_row(*(cells[name][row] for name in ("number", *group)))
        tables.append(table)
    return tables


def _column_width(header: str, values: list[str]) -> int:
    """The narrowest a column can be with no header word and no value cut."""
    return max(*(len(word) for word in header.split()), *(len(value) for value in values), 1)


def _wrapped(header: str, width: int) -> str:
    """``header`` over lines of at most ``width`` characters, broken at spaces."""
    lines: list[str] = []
    for word in header.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines)


def _column_groups(cells: dict[str, list[str]], width: int) -> list[list[str]]:
    """The metric columns in order, split so that ``number`` plus each group fits ``width``.

    A rich table with box borders takes each column's width plus two of padding and one border, and
    one more border at the end.
    """
    def cost(name: str) -> int:
        return _column_width(name, cells[name]) + 3

    base = cost("number") + 1
    groups: list[list[str]] = [[]]
    used = base
    for name in cells:
        if name == "number":
            continue
        if groups[-1] and used + cost(name) > width:
            groups.append([])
            used = base
        groups[-1].append(name)
        used += cost(name)
    return groups


def _number(value: Any) -> str:
    return "" if value is None else f"{value:.4g}"
