"""``ch search [MODEL] [DATASET] --config X.toml [--storage URL]``: MASE's search action.

``ch search --report DIR [DIR ...]`` runs no search: it prints the best-trial table of each search
folder and redraws its plots (``chop.search.report``); with several folders, also their
sample-efficiency plot (lab 3 Q4). A flag, as MASE's ``search`` action is flat.

The package also holds MASE's import paths for the search's parts, as light re-exports of
``chop.search``: ``chop.actions.search.search_space`` (``SearchSpaceBase``, ``get_search_space_cls``),
``chop.actions.search.strategies`` (``SearchStrategyBase``, ``get_search_strategy_cls``,
``strategies.optuna.SearchStrategyOptuna``, ``strategies.runners``). This module imports only the
standard library, so ``ch --help`` stays fast; the submodules load torch and optuna when imported.
"""

from __future__ import annotations

import argparse
from typing import Any

COMMAND = ("search",)
HELP = "design-space search ([search.*] of the TOML): study and results in software/search_ckpts/"
SEARCH_DIR = "search_ckpts"
STUDY_FILE = "study.sqlite"  # chop.search.storage.STUDY_FILE, named here without importing optuna
IN_MEMORY = "memory"  # --storage memory: the study is not stored (no resume, no database round trips)


def configure(parser: argparse.ArgumentParser) -> None:
    from chop.actions._graph_actions import add_graph_action_arguments

    add_graph_action_arguments(parser)
    parser.add_argument("--storage", metavar="URL",
                        help="optuna storage of the study, resumed and shared by workers given the same URL (e.g. "
                             "sqlite:///s.sqlite, postgresql://host/db; default: search_ckpts/study.sqlite, or "
                             "[search.strategy.setup] storage); `memory` keeps it in memory: faster, not resumable")
    parser.add_argument("--jobs", type=int, metavar="N",
                        help="architectures trained at once in worker processes, one thread each (spaces that "
                             "retrain; default: [search.strategy.setup] jobs, else 1)")
    parser.add_argument("--report", nargs="+", metavar="DIR",
                        help="search nothing: print the table of each search folder (search_ckpts) and redraw its "
                             "plots into DIR/report/; with several, their sample-efficiency plot too")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON on stdout only")


def _progress(enabled: bool) -> Any:
    """A transient trial counter on stderr (only on a terminal)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    return Progress(TextColumn("search"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                    transient=True, disable=not (enabled and console.is_terminal))


def _summary(outcome: Any) -> dict[str, Any]:
    from chop.search.outputs import best_json

    result = outcome.result
    states = [t.state for t in result.trials]
    return {
        "search_ckpts": str(outcome.log_path.parent), "log": str(outcome.log_path), "best": str(outcome.best_path),
        "kept": [str(path) for path in outcome.kept], "storage": outcome.storage, "study": outcome.study_name,
        "resumed": result.resumed,
        "space_size": outcome.space_size, "trials": len(states), "complete": states.count("COMPLETE"),
        "pruned": states.count("PRUNED"), "seconds": result.seconds,
        "trials_per_second": (len(states) - result.resumed) / result.seconds
        if result.seconds > 0 and len(states) > result.resumed else None,
        "metrics": list(result.metric_names), "multi_objective": result.multi_objective,
        "best_trials": list(best_json(result).values()), "plots": [str(path) for path in outcome.plots],
    }


def _base_model(build: Any, settings: Any, config: Any) -> Any:
    """The model the space is built on: the trained one (``--load``), or for a space that trains every
    candidate, a fresh one (only its shape matters, and ``--load`` would have no use)."""
    from chop.actions._graph_actions import initial_model
    from chop.errors import ConfigError

    if not config.space_class().retrains:
        return initial_model(build, settings, "search")
    if settings.load_name:
        raise ConfigError(f"--load {settings.load_name}: the space {config.space_name} trains every candidate from "
                          "fresh weights ([search.strategy.sw_runner.basic_train]); drop --load")
    import torch

    torch.manual_seed(settings.seed)
    return build()


REPORT_UNUSED = (("MODEL", "model"), ("DATASET", "dataset"), ("--config", "config"), ("--load", "load_name"),
                 ("--storage", "storage"), ("--jobs", "jobs"))
"""What defines a search to run, refused with ``--report`` (which runs none) rather than ignored."""


def _report(args: argparse.Namespace) -> int:
    """``--report DIR ...``: each folder's table, its plots redrawn, and the folders' sample-efficiency plot."""
    import json

    from chop.errors import ConfigError
    from chop.search.outputs import best_json, best_tables
    from chop.search.plots import best_so_far
    from chop.search.report import accuracies, read_search, write_report
    from chop.tools.console import console

    given = [flag for flag, dest in REPORT_UNUSED if getattr(args, dest, None) is not None]
    if given:
        raise ConfigError(f"--report reads finished searches only; {given[0]} has no use with it (the tables and "
                          f"plots come from each folder's log.json or study.sqlite): drop {given[0]}, or run the "
                          "search without --report")
    reports = [read_search(directory) for directory in args.report]
    plots = write_report(reports)
    if args.json:
        print(json.dumps({"reports": [{"folder": str(r.directory), "source": str(r.source),
                                       "trials": len(r.result.trials),
                                       "complete": sum(t.state == "COMPLETE" for t in r.result.trials),
                                       "best_trials": list(best_json(r.result).values()),
                                       "best_accuracy_so_far": best_so_far(accuracies(r), "maximize")}
                                      for r in reports],
                          "plots": [str(path) for path in plots]}))
        return 0
    out = console()
    for report in reports:
        states = [t.state for t in report.result.trials]
        out.print(f"{report.directory}: {len(states)} trials ({states.count('COMPLETE')} complete, "
                  f"{states.count('PRUNED')} skipped) from {report.source.name}", soft_wrap=True)
        for table in best_tables(report.result):
            out.print(table)
    out.print(f"plots: {', '.join(str(path) for path in plots) or 'none (no trial measured accuracy and a cost)'}",
              soft_wrap=True)
    return 0


def run(args: argparse.Namespace) -> int:
    from chop.tools.runtime import configure_threads

    configure_threads()
    import datetime
    import json

    from chop.tools.console import console

    from chop.actions._graph_actions import warn_unused_flags
    from chop.actions._training import prepare
    from chop.config import load_toml
    from chop.errors import ConfigError
    from chop.search import parse_search_config, run_search
    from chop.search.outputs import best_tables
    from chop.search.storage import sqlite_url

    if args.report:
        return _report(args)
    if not args.config:
        raise ConfigError("ch search needs --config X.toml with [search.search_space] and [search.strategy] "
                          "(see configs/search/jsc_tiny_mixed_precision.toml)")
    if args.jobs is not None and args.jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {args.jobs}")
    config = parse_search_config(load_toml(args.config).get("search"), str(args.config))  # fail before loading data
    warn_unused_flags(args, "search")
    resolved, data, build = prepare(args, action="search")
    settings = resolved.args
    model = _base_model(build, settings, config)
    save_dir = settings.software_dir(datetime.date.today().isoformat()) / SEARCH_DIR
    storage = args.storage or config.strategy.storage or sqlite_url(save_dir / STUDY_FILE)
    storage = None if storage == IN_MEMORY else storage
    study_name = f"{settings.model_file or settings.model}/{config.space_name}"
    with _progress(not args.json) as progress:
        task = progress.add_task("search", total=config.strategy.n_trials)
        outcome = run_search(model, config, data, save_dir, seed=settings.seed, source=str(args.config),
                             on_trial=lambda result: progress.update(task, completed=len(result.trials)),
                             storage=storage, study_name=study_name, build=build, jobs=args.jobs)
    result = outcome.result
    if result.interrupted:
        raise KeyboardInterrupt
    if not result.best:
        first = next((t.error for t in result.trials if t.error), "no trial finished")
        raise ConfigError(f"{args.config}: no trial gave a usable config ({len(result.trials)} tried; "
                          f"first reason: {first}); see {outcome.log_path}")
    summary = _summary(outcome)
    if args.json:
        print(json.dumps(summary))
        return 0
    out = console()
    for table in best_tables(result):
        out.print(table)
    skipped = f", {summary['pruned']} skipped (unusable combination, see log.json)" if summary["pruned"] else ""
    rate = f" ({summary['trials_per_second']:.1f} trials/s)" if summary["trials_per_second"] else ""
    earlier = f" ({result.resumed} of them from earlier runs)" if result.resumed else ""
    out.print(f"{summary['trials']} trials{earlier}{skipped} in {result.seconds:.1f} s{rate}; "
              f"space of {summary['space_size']:,} points")
    out.print(f"log: {outcome.log_path}\nbest: {outcome.best_path}")
    if outcome.plots:
        out.print(f"plots: {', '.join(str(path) for path in outcome.plots)}", soft_wrap=True)
    if outcome.storage is not None:
        out.print(f"study: {outcome.study_name} in {outcome.storage}", soft_wrap=True)
    return 0
