"""MaseDataModule: MASE's notebook interface over the prepared splits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from jsc_files import make_rows, write_parquet
from torch import nn

from chop.dataset import MaseDataModule, get_dataset_info, load_dataset
from chop.errors import DataError
from chop.models import register_model


@register_model("test-datamodule-conv", input_shape=(1, 16))
class _ConvNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 5, kernel_size=16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x).flatten(1)


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    return write_parquet(tmp_path / "jets.parquet", make_rows(230, seed=6))


def test_loaders_serve_every_split_row_in_batches(data_file: Path) -> None:
    module = MaseDataModule(name="jsc", batch_size=32, model_name="jsc-tiny", num_workers=0, data_path=data_file)
    assert module.dataset_info.num_classes == 5 and module.dataset_info.num_features == 16
    module.prepare_data()
    module.setup()
    splits = load_dataset("jsc", data_file)
    val = torch.cat([x for x, _ in module.val_dataloader()])
    np.testing.assert_array_equal(val.numpy(), splits.x_val)
    test_labels = torch.cat([y for _, y in module.test_dataloader()])
    np.testing.assert_array_equal(test_labels.numpy(), splits.y_test)
    train_batches = list(module.train_dataloader())
    assert [len(y) for _, y in train_batches] == [32] * (len(splits.y_train) // 32) + [len(splits.y_train) % 32]
    train = torch.cat([x for x, _ in train_batches]).numpy()
    assert sorted(map(tuple, train.tolist())) == sorted(map(tuple, splits.x_train.tolist()))
    assert module.splits is not None and len(module.splits.y_train) == len(splits.y_train)


def test_inputs_take_the_registered_model_input_shape(data_file: Path) -> None:
    module = MaseDataModule(name="jsc", batch_size=8, model_name="test-datamodule-conv", num_workers=0, data_path=data_file)
    module.setup()
    x, y = next(iter(module.train_dataloader()))
    assert tuple(x.shape) == (8, 1, 16) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert tuple(_ConvNet()(x).shape) == (8, 5)


def test_dataset_info_without_loading_and_unknown_names() -> None:
    info = get_dataset_info("jsc-pythia")
    assert (info.name, info.num_features, info.num_classes) == ("jsc-pythia", 16, 5)
    with pytest.raises(DataError, match="unknown dataset 'mnist'"):
        MaseDataModule(name="mnist", batch_size=8)
    with pytest.raises(DataError, match="batch_size"):
        MaseDataModule(name="jsc", batch_size=0)
