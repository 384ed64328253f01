"""Datasets: JSC loaders, the bundled jsc-pythia sample, and the offline generator.

Public API (lab-api §2 and §8): :func:`load_dataset` returns standardised train / validation / test
splits; :func:`get_dataset_info` and :class:`MaseDataModule` serve MASE notebooks.
"""

from chop.dataset.datamodule import MaseDataModule
from chop.dataset.load import dataset_source, get_dataset_info, known_datasets, load_dataset, load_file
from chop.dataset.splits import JSC_CLASSES, JSC_FEATURES, JSC_LABEL_COLUMNS, DatasetInfo, DatasetSplits

__all__ = [
    "JSC_CLASSES",
    "JSC_FEATURES",
    "JSC_LABEL_COLUMNS",
    "DatasetInfo",
    "DatasetSplits",
    "MaseDataModule",
    "dataset_source",
    "get_dataset_info",
    "known_datasets",
    "load_dataset",
    "load_file",
]
