"""``ch search --report DIR [DIR ...]``: a finished (or killed) search's table and plots, rebuilt without searching.

A search folder (``search_ckpts``) holds ``log.json`` / ``best.json`` (what the run wrote, with the
Yosys metrics of its Pareto set) and the study (``study.sqlite``). The report reads ``log.json``
and takes the best trials ``best.json`` names, so its table is the one the search printed; a folder
with only a study (a search killed before its first save, or workers whose files went elsewhere)
is read from the study, whose directions give the best trial or the Pareto set. The Pareto plots
are drawn from the same trials into ``DIR/report/`` (an earlier report is kept as ``report-vN``).
With several folders, the best-so-far accuracy of each (lab 3 Q4: brute force against TPE) goes
into the first folder's report as ``sample_efficiency.png``.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chop.errors import MachopError
from chop.search.outputs import ACCURACY, BEST_FILE, LOG_FILE, completed_metrics, write_plots
from chop.search.plots import sample_efficiency_plot
from chop.search.storage import STUDY_FILE, open_storage
from chop.search.strategy_base import Leaderboard, SearchResult, TrialRecord
from chop.tools.versions import replacing

REPORT_DIR = "report"
SAMPLE_EFFICIENCY_FILE = "sample_efficiency.png"


class ReportError(MachopError):
    """A folder ``--report`` cannot read a search from."""


@dataclass(frozen=True)
class SearchReport:
    """One folder's search as read back: the result (best trials included) and the file it came from."""

    directory: Path
    source: Path
    result: SearchResult


def read_search(directory: str | Path) -> SearchReport:
    """The search saved in ``directory``: from its ``log.json`` (and ``best.json``), else its study."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ReportError(f"--report {directory}: not a folder; give a search folder (…/software/search_ckpts)")
    if (directory / LOG_FILE).is_file():
        return SearchReport(directory, directory / LOG_FILE, _from_log(directory))
    if (directory / STUDY_FILE).is_file():
        return SearchReport(directory, directory / STUDY_FILE, _from_study(directory / STUDY_FILE))
    raise ReportError(f"--report {directory}: no {LOG_FILE} and no {STUDY_FILE} there; give the folder ch search "
                      "wrote (…/software/search_ckpts)")


def _load_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ReportError(f"{path}: cannot read it as ch search's output ({error})") from None
    if not isinstance(data, dict):
        raise ReportError(f"{path}: expected ch search's object of trials, got {type(data).__name__}")
    return data


def _moment(ms: int | None) -> datetime.datetime | None:
    return None if ms is None else datetime.datetime.fromtimestamp(ms / 1000)


def _log_record(entry: dict[str, Any]) -> TrialRecord:
    if "value" in entry:
        values = None if entry["value"] is None else (entry["value"],)
    else:
        count = sum(key.startswith("values_") for key in entry)
        values = None if entry.get("values_0") is None else tuple(entry[f"values_{i}"] for i in range(count))
    return TrialRecord(entry["number"], entry["state"], values, entry.get("user_attrs_software_metrics", {}),
                       entry.get("user_attrs_hardware_metrics", {}), entry.get("user_attrs_scaled_metrics", {}),
                       entry.get("user_attrs_sampled_config", {}), entry.get("user_attrs_error"),
                       _moment(entry.get("datetime_start")), _moment(entry.get("datetime_complete")))


def _from_log(directory: Path) -> SearchResult:
    log_path = directory / LOG_FILE
    entries = list(_load_json(log_path).values())
    try:
        records = sorted((_log_record(entry) for entry in entries), key=lambda r: r.number)
    except (KeyError, TypeError, AttributeError) as error:
        raise ReportError(f"{log_path}: a trial lacks {error} (not a log.json ch search wrote)") from None
    by_number = {r.number: r for r in records}
    best_path = directory / BEST_FILE
    best_numbers = [row["number"] for row in _load_json(best_path).values()] if best_path.is_file() else []
    missing = [n for n in best_numbers if n not in by_number]
    if missing:
        raise ReportError(f"{best_path}: trial {missing[0]} is not in {log_path}; the two are of different runs")
    multi = any("values_0" in entry for entry in entries)  # MASE's columns: value (one objective) or values_i
    return SearchResult(tuple(records), tuple(by_number[n] for n in best_numbers), _metric_names(records), multi, 0.0)


def _from_study(path: Path) -> SearchResult:
    import optuna

    from chop.search.storage import sqlite_url
    from chop.search.strategy import stored_records

    storage = open_storage(sqlite_url(path), grace_period=10)
    names = optuna.get_all_study_names(storage)
    if len(names) != 1:
        raise ReportError(f"{path}: holds {len(names)} studies ({', '.join(names) or 'none'}); --report reads a "
                          "folder with one")
    study = optuna.load_study(study_name=names[0], storage=storage)
    records = stored_records(study)
    directions = tuple(d.name.lower() for d in study.directions)
    board = Leaderboard(directions)
    for record in records:
        board.add(record)
    return SearchResult(tuple(records), tuple(board.best), _metric_names(records), len(directions) > 1, 0.0)


def _metric_names(records: list[TrialRecord]) -> tuple[str, ...]:
    """The objectives' metric names (every completed trial's scaled metrics, sorted as MASE orders them)."""
    return next((tuple(sorted(r.scaled_metrics)) for r in records if r.state == "COMPLETE"), ())


def write_report(reports: list[SearchReport]) -> tuple[Path, ...]:
    """Each folder's Pareto plots into its ``report/``; with several, their sample-efficiency plot into the first's."""
    written: list[Path] = []
    for i, report in enumerate(reports):
        target = report.directory / REPORT_DIR
        with replacing(target):
            target.mkdir()
            written += write_plots(report.result, target)
            if i == 0 and len(reports) > 1:
                written.append(_sample_efficiency(reports, target / SAMPLE_EFFICIENCY_FILE))
    return tuple(written)


def accuracies(report: SearchReport) -> list[float]:
    """The accuracy of each completed trial in trial order (what the sample-efficiency curve is drawn from)."""
    return [t[ACCURACY] for t in completed_metrics(report.result) if ACCURACY in t]


def _sample_efficiency(reports: list[SearchReport], path: Path) -> Path:
    curves = {}
    for report in reports:
        values = accuracies(report)
        if not values:
            raise ReportError(f"{report.source}: no completed trial measured {ACCURACY}; the sample-efficiency plot "
                              "compares the best accuracy found after each trial")
        curves[str(report.directory)] = values
    sample_efficiency_plot(curves, path, ACCURACY, "maximize")
    return path
