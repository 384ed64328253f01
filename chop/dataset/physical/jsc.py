"""MASE's ``chop.dataset.physical.jsc``: where lab code looks for the JSC data set.

machop's JSC code lives in :mod:`chop.dataset`; this module re-exports what a lab user reaches for:
the data module and dataset info, the loaded splits, the download, and the feature and class names.
"""

from chop.dataset.datamodule import MaseDataModule
from chop.dataset.download import download_jsc
from chop.dataset.load import get_dataset_info, load_dataset
from chop.dataset.splits import JSC_CLASSES, JSC_FEATURES, JSC_LABEL_COLUMNS, DatasetInfo, DatasetSplits

__all__ = [
    "JSC_CLASSES",
    "JSC_FEATURES",
    "JSC_LABEL_COLUMNS",
    "DatasetInfo",
    "DatasetSplits",
    "MaseDataModule",
    "download_jsc",
    "get_dataset_info",
    "load_dataset",
]
