"""Test-split metrics for ``ch test``: accuracy, loss, per-class accuracy and the confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from chop.models.input_shape import input_shape_of


@dataclass(frozen=True)
class ClassificationReport:
    test_acc_epoch: float
    test_loss_epoch: float
    class_names: tuple[str, ...]
    per_class_accuracy: tuple[float, ...]   # recall of each true class; NaN when the class is absent
    confusion: np.ndarray                   # rows: true class, columns: predicted class

    def as_json(self) -> dict[str, Any]:
        return {
            "test_acc_epoch": self.test_acc_epoch,
            "test_loss_epoch": self.test_loss_epoch,
            "per_class_accuracy": {name: (None if np.isnan(acc) else acc)
                                   for name, acc in zip(self.class_names, self.per_class_accuracy)},
            "confusion_matrix": {"classes": list(self.class_names), "rows_true_columns_predicted": self.confusion.tolist()},
        }


@torch.no_grad()
def classification_report(model: nn.Module, x: np.ndarray, y: np.ndarray, class_names: Sequence[str],
                          chunk: int = 8192) -> ClassificationReport:
    """Evaluate ``model`` (eval mode) on all rows; inputs reshaped to its ``input_shape``."""
    model.eval()
    xt = torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32).reshape(len(x), -1)
    yt = torch.as_tensor(np.ascontiguousarray(y), dtype=torch.int64)
    shape = input_shape_of(model, xt.shape[1])
    classes = len(class_names)
    loss = 0.0
    predictions = []
    for start in range(0, len(xt), chunk):
        logits = model(xt[start:start + chunk].view(-1, *shape))
        loss += float(torch.nn.functional.cross_entropy(logits, yt[start:start + chunk], reduction="sum"))
        predictions.append(logits.argmax(-1))
    predicted = torch.cat(predictions).numpy() if predictions else np.zeros(0, dtype=np.int64)
    truth = yt.numpy()
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (truth, predicted), 1)
    totals = confusion.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(totals > 0, np.diag(confusion) / np.maximum(totals, 1), np.nan)
    rows = max(len(truth), 1)
    return ClassificationReport(float(np.trace(confusion)) / rows, loss / rows, tuple(class_names),
                                tuple(float(v) for v in per_class), confusion)
