"""A rich progress bar per epoch: it/s plus the lab metric names, refreshed from occasional syncs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn
from rich.text import Text


class _RateColumn(ProgressColumn):
    def render(self, task: Any) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} it/s" if speed else "- it/s")


class EpochProgress:
    """One bar per epoch; metrics are the mean over the K models (K=1: the model's own value)."""

    def __init__(self, enabled: bool, console: Console | None = None) -> None:
        self.enabled = enabled
        self.progress = Progress(
            TextColumn("epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(), _RateColumn(),
            TimeElapsedColumn(), TextColumn("{task.fields[metrics]}"),
            console=console or Console(stderr=True), disable=not enabled,
        )
        self.task: Any = None
        self.shown: dict[str, float] = {}

    def __enter__(self) -> EpochProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def _text(self) -> str:
        return " ".join(f"{name}={value:.4f}" for name, value in self.shown.items())

    def start_epoch(self, epoch: int, steps: int) -> None:
        self.task = self.progress.add_task("train", total=steps, epoch=epoch, metrics=self._text())

    def update(self, completed: int, metrics: Mapping[str, float]) -> None:
        self.shown.update(metrics)
        self.progress.update(self.task, completed=completed, metrics=self._text())
