"""MASE's ``toy_tiny`` dataset (also spelled ``toy-tiny``): four numbers, is their sum positive?

MASE's quantisation test configs train the ``toy`` model on it. Each row is a (1, 2, 2) input of
values uniform in [-1, 1], stored flattened as four features (the engine reshapes rows to the
model's ``input_shape``); the label is 1 when the four stored float32 values sum (in float64) to
more than 0, else 0. Every split has 10,240 rows drawn by ``numpy.random.default_rng`` with a fixed
seed of its own (train 0, validation 1, test 2), so the rows are the same on every machine and
no split shares draws with another. Nothing is downloaded, cached or standardised.
"""

from __future__ import annotations

import numpy as np

from chop.dataset.splits import DatasetInfo, DatasetSplits

NAMES = ("toy_tiny", "toy-tiny")
INPUT_SHAPE = (1, 2, 2)
ROWS_PER_SPLIT = 10_240
SPLIT_SEEDS = {"train": 0, "validation": 1, "test": 2}
FEATURES = ("x_0_0", "x_0_1", "x_1_0", "x_1_1")  # row-major positions in the 2 x 2 input
CLASSES = ("sum_not_positive", "sum_positive")


def toy_tiny_info(name: str = "toy_tiny") -> DatasetInfo:
    """Feature and class counts of ``toy_tiny`` under the spelling the user gave."""
    return DatasetInfo(name=name, num_features=len(FEATURES), num_classes=len(CLASSES), feature_names=FEATURES,
                       class_names=CLASSES)


def toy_tiny_split(seed: int, rows: int = ROWS_PER_SPLIT) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` of one split: float32 rows of four features, int64 labels."""
    x = np.random.default_rng(seed).uniform(-1.0, 1.0, size=(rows, len(FEATURES))).astype(np.float32)
    y = (x.sum(axis=1, dtype=np.float64) > 0).astype(np.int64)
    return x, y


def load_toy_tiny(name: str = "toy_tiny") -> DatasetSplits:
    """The three splits, generated in memory (a few milliseconds)."""
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = (toy_tiny_split(SPLIT_SEEDS[s]) for s in SPLIT_SEEDS)
    provenance = {"generator": __name__, "rows_per_split": ROWS_PER_SPLIT, "seeds": dict(SPLIT_SEEDS),
                  "input_shape": list(INPUT_SHAPE)}
    return DatasetSplits(toy_tiny_info(name), x_train, y_train, x_val, y_val, x_test, y_test, provenance)
