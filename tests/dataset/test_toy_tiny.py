"""MASE's toy_tiny dataset: row counts, the label rule, determinism, one seed per split, and the CLI."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from chop.cli import main
from chop.dataset import MaseDataModule, get_dataset_info, load_dataset
from chop.errors import DataError


@pytest.mark.parametrize("name", ["toy_tiny", "toy-tiny"])
def test_rows_shape_and_info(name: str) -> None:
    data = load_dataset(name)
    assert data.info == get_dataset_info(name)
    assert (data.info.name, data.info.num_features, data.info.num_classes) == (name, 4, 2)
    assert len(data.info.feature_names) == 4 and len(data.info.class_names) == 2
    for x, y in ((data.x_train, data.y_train), (data.x_val, data.y_val), (data.x_test, data.y_test)):
        assert x.shape == (10_240, 4) and x.dtype == np.float32
        assert y.shape == (10_240,) and y.dtype == np.int64
        assert x.min() >= -1.0 and x.max() <= 1.0


def test_labels_are_the_sum_rule_and_splits_use_seeds_0_1_2() -> None:
    data = load_dataset("toy_tiny")
    for seed, (x, y) in enumerate(((data.x_train, data.y_train), (data.x_val, data.y_val),
                                   (data.x_test, data.y_test))):
        expected = np.random.default_rng(seed).uniform(-1.0, 1.0, size=(10_240, 4)).astype(np.float32)
        assert np.array_equal(x, expected)
        assert np.array_equal(y, (expected.astype(np.float64).sum(axis=1) > 0).astype(np.int64))
        assert 0.45 < y.mean() < 0.55  # the sum of symmetric draws is positive half the time


def test_deterministic_and_splits_disjoint() -> None:
    first, second = load_dataset("toy_tiny"), load_dataset("toy-tiny")
    assert np.array_equal(first.x_train, second.x_train) and np.array_equal(first.y_test, second.y_test)
    rows = [{tuple(r) for r in split.tolist()} for split in (first.x_train, first.x_val, first.x_test)]
    assert not (rows[0] & rows[1]) and not (rows[0] & rows[2]) and not (rows[1] & rows[2])
    digest = hashlib.sha256()
    for array in (first.x_train, first.y_train, first.x_val, first.y_val, first.x_test, first.y_test):
        digest.update(array.tobytes())
    assert first.provenance["sha256"] == second.provenance["sha256"] == digest.hexdigest()
    assert (first.provenance["scaler_mean"], first.provenance["scaler_std"]) == ([0.0] * 4, [1.0] * 4)  # unscaled


def test_data_path_is_refused_and_the_data_module_reshapes_for_toy() -> None:
    with pytest.raises(DataError, match="'toy_tiny' is generated in memory"):
        load_dataset("toy_tiny", "somewhere.parquet")
    module = MaseDataModule(name="toy_tiny", batch_size=16, model_name="toy")
    module.prepare_data()
    module.setup()
    x, y = next(iter(module.train_dataloader()))
    assert tuple(x.shape) == (16, 1, 2, 2) and tuple(y.shape) == (16,)


def test_ch_train_then_test_toy_on_toy_tiny(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["train", "toy", "toy_tiny", "--max-epochs", "2", "--batch-size", "256", "--learning-rate", "1e-2",
                 "--project-dir", str(tmp_path), "--project", "t", "--json", "--seed", "0"])
    out, err = capsys.readouterr()
    assert code == 0, err
    trained = json.loads(out)
    assert trained["test_acc_epoch"] > 0.9  # the sum rule is linear: two epochs learn most of it
    code = main(["test", "toy", "toy-tiny", "--load", trained["best_checkpoint"], "--load-type", "pl",
                 "--project-dir", str(tmp_path), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["test_acc_epoch"] == pytest.approx(trained["test_acc_epoch"])


def test_ch_data_info_names_the_toy_classes(capsys: pytest.CaptureFixture) -> None:
    assert main(["data", "info", "toy_tiny", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    data = load_dataset("toy_tiny")
    labels = np.concatenate([data.y_train, data.y_val, data.y_test])
    assert info["classes"] == dict(zip(data.info.class_names, np.bincount(labels).tolist()))
    assert info["splits"] == {"train": 10_240, "validation": 10_240, "test": 10_240}
