"""``MaseDataModule``: the MASE notebook interface over :func:`chop.dataset.load_dataset`.

The lab notebooks build one, call ``prepare_data()`` and ``setup()``, read ``dataset_info`` and pull
batches from ``train_dataloader()``. machop's engine trains from the resident arrays in
:class:`DatasetSplits` instead; this class exists so notebooks run unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chop.dataset.load import dataset_source, get_dataset_info, load_dataset
from chop.dataset.splits import DatasetInfo, DatasetSplits
from chop.errors import DataError


class MaseDataModule:
    """Splits of a named dataset as torch ``DataLoader`` objects (MASE's constructor signature).

    When ``model_name`` is a registered model, inputs are reshaped to its declared ``input_shape``
    (e.g. ``(1, 16)`` for a Conv1d model), as the engine does.
    """

    def __init__(
        self,
        name: str,
        batch_size: int,
        model_name: str | None = None,
        num_workers: int = 0,
        data_path: str | Path | None = None,
        tokenizer: Any = None,
        max_token_len: int | None = None,
        load_from_cache_file: bool = True,
    ) -> None:
        """``tokenizer``, ``max_token_len`` and ``load_from_cache_file`` are MASE's text-dataset
        arguments: accepted so MASE calls work, and unused (JSC is tabular; caching is always on)."""
        if int(batch_size) < 1:
            raise DataError(f"batch_size must be a positive integer, got {batch_size}")
        self.name = name
        self.batch_size = int(batch_size)
        self.model_name = model_name
        self.num_workers = int(num_workers or 0)
        self.data_path = data_path
        self.dataset_info: DatasetInfo = get_dataset_info(name)
        self.splits: DatasetSplits | None = None
        self._datasets: dict[str, Any] = {}

    def prepare_data(self) -> None:
        """Make sure the source file is present (for ``jsc`` this may download it)."""
        dataset_source(self.name, self.data_path)

    def setup(self, stage: str | None = None) -> None:
        """Load (or reuse) the prepared splits and wrap them as tensors."""
        if self.splits is not None:
            return
        import torch
        from torch.utils.data import TensorDataset

        self.splits = load_dataset(self.name, self.data_path)
        shape = self._input_shape()
        for split, (x, y) in {
            "train": (self.splits.x_train, self.splits.y_train),
            "validation": (self.splits.x_val, self.splits.y_val),
            "test": (self.splits.x_test, self.splits.y_test),
        }.items():
            inputs = torch.from_numpy(x).reshape(len(x), *shape)
            self._datasets[split] = TensorDataset(inputs, torch.from_numpy(y))

    def _input_shape(self) -> tuple[int, ...]:
        """The model's declared input shape (batch excluded), else the flat feature vector.

        The only place the dataset layer looks at models (lazily): MASE's data module takes a
        ``model_name`` for exactly this.
        """
        from chop.models import get_model_info, known_models

        if self.model_name is not None and self.model_name in known_models():
            return tuple(get_model_info(self.model_name).input_shape)
        return (self.dataset_info.num_features,)

    def _loader(self, split: str, shuffle: bool):
        from torch.utils.data import DataLoader

        if not self._datasets:
            self.setup()
        return DataLoader(self._datasets[split], batch_size=self.batch_size, shuffle=shuffle, num_workers=self.num_workers)

    def train_dataloader(self):
        return self._loader("train", shuffle=True)

    def val_dataloader(self):
        return self._loader("validation", shuffle=False)

    def test_dataloader(self):
        return self._loader("test", shuffle=False)
