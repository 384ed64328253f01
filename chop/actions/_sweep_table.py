"""What ``ch sweep run`` and ``ch sweep report`` print: the per-configuration results, 100 columns wide.

``results.md`` holds the full table (labels and 95 % confidence intervals); the terminal gets
mean ± std of each metric and the swept values, which fits a 100-column pipe.
"""

from __future__ import annotations

from typing import Any

SHORT_METRICS = {"val_acc_last_epoch": "val_acc", "train_acc_last_step": "train_acc", "test_acc": "test_acc"}


def print_results(report: Any) -> None:
    """The results table, then where the full table and the plots were written."""
    from rich.table import Table

    from chop.tools.console import console

    swept = list(report.summaries[0].values) if report.summaries else []
    table = Table(title="mean ± std over the finished repeats (95 % CIs in results.md)")
    for column in ("id", *swept, "runs"):
        table.add_column(column, justify="right")
    for metric in SHORT_METRICS.values():
        table.add_column(metric, justify="right")
    for summary in report.summaries:
        cells = [f"{summary.stats[m].mean:.4f} ± {summary.stats[m].std:.4f}" if summary.stats[m].n > 1
                 else summary.stats[m].text() for m in SHORT_METRICS]
        table.add_row(str(summary.config_id), *(str(summary.values[k]) for k in swept),
                      f"{summary.finished}/{summary.planned}", *cells)
    out = console()
    out.print(table)
    out.print("wrote " + ", ".join(str(path) for path in report.files), soft_wrap=True)
