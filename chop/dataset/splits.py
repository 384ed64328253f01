"""The prepared form of a dataset that every upper layer consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

JSC_FEATURES: tuple[str, ...] = (
    "j_zlogz", "j_c1_b0_mmdt", "j_c1_b1_mmdt", "j_c1_b2_mmdt", "j_c2_b1_mmdt", "j_c2_b2_mmdt",
    "j_d2_b1_mmdt", "j_d2_b2_mmdt", "j_d2_a1_b1_mmdt", "j_d2_a1_b2_mmdt", "j_m2_b1_mmdt",
    "j_m2_b2_mmdt", "j_n2_b1_mmdt", "j_n2_b2_mmdt", "j_mass_mmdt", "j_multiplicity",
)
JSC_CLASSES: tuple[str, ...] = ("g", "q", "w", "z", "t")
JSC_LABEL_COLUMNS: tuple[str, ...] = ("j_g", "j_q", "j_w", "j_z", "j_t")


@dataclass(frozen=True)
class DatasetInfo:
    """What a model needs to know about a dataset (MASE's ``dataset_info``)."""

    name: str
    num_features: int = len(JSC_FEATURES)
    num_classes: int = len(JSC_CLASSES)
    feature_names: tuple[str, ...] = JSC_FEATURES
    class_names: tuple[str, ...] = JSC_CLASSES


@dataclass(frozen=True)
class DatasetSplits:
    """Standardised float32 features and int64 class indices for train / validation / test.

    ``train`` is machop's training split (90 % of MASE's train+val), ``validation`` the held-out
    10 %, ``test`` exactly MASE's test rows. ``provenance`` says where the rows came from and how
    they were prepared (source file, hash, rows dropped, scaler statistics).
    """

    info: DatasetInfo
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.info.name
