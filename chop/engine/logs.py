"""Training logs: TensorBoard event files and a ``metrics.csv``, with the lab's exact metric names."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from chop.tools.atomic import atomic_write_text

METRIC_NAMES = ("train_acc_step", "train_loss_step", "val_acc_epoch", "val_loss_epoch",
                "test_acc_epoch", "test_loss_epoch")
CSV_COLUMNS = ("epoch", "step", *METRIC_NAMES, "lr", "seconds")


def metrics_csv_path(software_dir: Path, version: int) -> Path:
    return software_dir / ("metrics.csv" if version == 0 else f"metrics-v{version}.csv")


def tensorboard_dir(software_dir: Path, version: int) -> Path:
    """Where Lightning's ``TensorBoardLogger(save_dir=software_dir / "tensorboard")`` puts version N
    (``lightning_logs/version_N``, the folder the lab notebooks open)."""
    return software_dir / "tensorboard" / "lightning_logs" / f"version_{version}"


class RunLog:
    """One run's TensorBoard writer and CSV rows (rewritten atomically).

    TensorBoard gets what Lightning's logger would: per-step scalars at step ``global_step - 1``
    (Lightning logs after the optimiser step, before counting it), epoch metrics at ``global_step``,
    and an ``epoch`` scalar with each.
    """

    def __init__(self, software_dir: Path, version: int, keep_rows: bool = False) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.tensorboard_dir = tensorboard_dir(software_dir, version)
        self.csv_path = metrics_csv_path(software_dir, version)
        self.writer = SummaryWriter(log_dir=str(self.tensorboard_dir))
        self.rows: list[dict[str, Any]] = []
        if keep_rows and self.csv_path.is_file():
            with open(self.csv_path, newline="") as handle:
                self.rows = list(csv.DictReader(handle))

    def log_step(self, step: int, epoch: int, metrics: dict[str, float]) -> None:
        """Per-step scalars of optimiser step ``step`` (1-based) at Lightning's step value; no CSV row."""
        for name, value in metrics.items():
            self.writer.add_scalar(name, value, step - 1)
        self.writer.add_scalar("epoch", epoch, step - 1)

    def log(self, step: int, epoch: int, metrics: dict[str, float], **extra: float) -> None:
        """Write ``metrics`` at ``step`` to TensorBoard and append one CSV row (with ``extra`` columns)."""
        for name, value in metrics.items():
            self.writer.add_scalar(name, value, step)
        self.writer.add_scalar("epoch", epoch, step)
        self.writer.flush()
        self.rows.append({"epoch": epoch, "step": step, **metrics, **extra})
        buffer = io.StringIO()
        table = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        table.writeheader()
        table.writerows(self.rows)
        atomic_write_text(self.csv_path, buffer.getvalue())

    def close(self) -> None:
        self.writer.close()
