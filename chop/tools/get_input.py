"""``InputGenerator``: MASE's way for notebooks and passes to get example model inputs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chop.errors import DataError

_LOADERS = ("train", "val", "test")
_TASKS = ("cls", "classification")


class InputGenerator:
    """Iterator of ``{"x": batch}`` dicts from one of a data module's loaders, so that
    ``model(**next(iter(generator)))`` runs the model on a real batch.

    ``iter(generator)`` starts a fresh pass over the loader; ``max_batches`` (optional) bounds it.
    """

    def __init__(
        self,
        data_module: Any,
        model_info: Any = None,
        task: str = "cls",
        which_dataloader: str = "train",
        max_batches: int | None = None,
    ) -> None:
        if which_dataloader not in _LOADERS:
            raise DataError(f"which_dataloader must be one of {', '.join(_LOADERS)}, got '{which_dataloader}'")
        if task not in _TASKS:
            raise DataError(f"InputGenerator supports task 'cls' (classification) only, got '{task}'")
        self.data_module = data_module
        self.model_info = model_info
        self.task = task
        self.which_dataloader = which_dataloader
        self.max_batches = max_batches
        self.batch_size = data_module.batch_size
        self._batches: Iterator[Any] | None = None
        self._served = 0

    def __iter__(self) -> InputGenerator:
        self._batches = iter(getattr(self.data_module, f"{self.which_dataloader}_dataloader")())
        self._served = 0
        return self

    def __next__(self) -> dict[str, Any]:
        if self._batches is None:
            iter(self)
        if self.max_batches is not None and self._served >= self.max_batches:
            raise StopIteration
        x, _ = next(self._batches)
        self._served += 1
        return {"x": x}
