"""InputGenerator: `model(**next(iter(generator)))` runs a model on a real batch (lab-api §8)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from chop.dataset import JSC_FEATURES, MaseDataModule
from chop.errors import DataError
from chop.models import get_model, get_model_info
from chop.tools.get_input import InputGenerator


@pytest.fixture
def data_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MaseDataModule:
    monkeypatch.setenv("MACHOP_CACHE_DIR", str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    columns = {name: rng.normal(size=100) for name in JSC_FEATURES}
    columns["class"] = rng.choice(list("gqwzt"), size=100)
    pq.write_table(pa.table(columns), tmp_path / "jets.parquet")
    module = MaseDataModule(name="jsc", batch_size=16, model_name="jsc-tiny", num_workers=0, data_path=tmp_path / "jets.parquet")
    module.prepare_data()
    module.setup()
    return module


def test_model_runs_on_the_generated_input(data_module: MaseDataModule) -> None:
    generator = InputGenerator(data_module=data_module, model_info=get_model_info("jsc-tiny"), task="cls",
                               which_dataloader="train")
    assert generator.batch_size == 16
    model = get_model("jsc-tiny", task="cls", dataset_info=data_module.dataset_info).eval()
    batch = next(iter(generator))
    assert set(batch) == {"x"} and tuple(batch["x"].shape) == (16, 16)
    assert tuple(model(**batch).shape) == (16, 5)


def test_iteration_covers_the_chosen_loader_and_max_batches_bounds_it(data_module: MaseDataModule) -> None:
    test_rows = torch.cat([batch["x"] for batch in InputGenerator(data_module, which_dataloader="test")])
    np.testing.assert_array_equal(test_rows.numpy(), data_module.splits.x_test)
    assert len(list(InputGenerator(data_module, which_dataloader="train", max_batches=2))) == 2


def test_unknown_loader_is_an_error(data_module: MaseDataModule) -> None:
    with pytest.raises(DataError, match="which_dataloader"):
        InputGenerator(data_module, which_dataloader="validation")
