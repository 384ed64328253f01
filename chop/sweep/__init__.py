"""Sweeps: grids × repeats of ``ch train`` settings, grouped into ensembles, stored, reported.

Flow: ``load_sweep`` (TOML → typed ``SweepConfig``) → ``plan_groups`` (runs sharing architecture,
batch size and epochs) → ``run_sweep`` (engine per group, in-process or on Ray) → ``SweepStore``
(``sweep.sqlite``) → ``write_report`` (results.csv, results.md, plots).
"""

from chop.sweep.config import Configuration, PlannedRun, SweepConfig, load_sweep, parse_sweep
from chop.sweep.planner import Group, GroupKey, format_plan, plan_groups
from chop.sweep.report import Report, write_report
from chop.sweep.runner import InProcessBackend, ProcessBackend, SweepOutcome, execute_group, run_sweep
from chop.sweep.store import STORE_NAME, StoreError, SweepStore

__all__ = [
    "STORE_NAME", "Configuration", "Group", "GroupKey", "InProcessBackend", "PlannedRun", "ProcessBackend",
    "Report", "StoreError", "SweepConfig", "SweepOutcome", "SweepStore", "execute_group", "format_plan",
    "load_sweep", "parse_sweep", "plan_groups", "run_sweep", "write_report",
]
