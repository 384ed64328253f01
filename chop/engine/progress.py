"""A rich progress bar per epoch: it/s plus the lab metric names, refreshed from occasional syncs."""

from __future__ import annotations

import time

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
    """One bar per epoch; metrics are the mean over the K models (K=1: the model's own value).

    On a terminal the bars are live; in a log file or a pipe each epoch becomes one plain line
    when its validation metrics arrive, so logs stay readable and nothing is truncated.
    """

    def __init__(self, enabled: bool, console: Console | None = None) -> None:
        self.enabled = enabled
        self.console = console or Console(stderr=True)
        self.live = enabled and self.console.is_terminal
        self.progress = Progress(
            TextColumn("epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(), _RateColumn(),
            TimeElapsedColumn(), TextColumn("{task.fields[metrics]}"),
            console=self.console, disable=not self.live,
        )
        self.task: Any = None
        self.epoch = 0
        self.steps = 0
        self.started = 0.0
        self.shown: dict[str, float] = {}

    def __enter__(self) -> EpochProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def _text(self) -> str:
        return " ".join(f"{name}={value:.4f}" for name, value in self.shown.items())

    def start_epoch(self, epoch: int, steps: int) -> None:
        self.epoch, self.steps, self.started = epoch, steps, time.perf_counter()
        self.task = self.progress.add_task("train", total=steps, epoch=epoch, metrics=self._text())

    def update(self, completed: int, metrics: Mapping[str, float]) -> None:
        self.shown.update(metrics)
        self.progress.update(self.task, completed=completed, metrics=self._text())
        if self.enabled and not self.live and "val_loss_epoch" in metrics:
            seconds = time.perf_counter() - self.started
            rate = f"{self.steps / seconds:,.0f} it/s" if seconds > 0 else "- it/s"
            self.console.print(f"epoch {self.epoch}: {self.steps} steps, {rate}, {self._text()}",
                               highlight=False, soft_wrap=True)
