"""The paired-by-seed comparisons of ``docs/lab1-study.md`` from ``results.csv`` (run from the repository root).

Repeat r of every configuration starts from seed r and, within a group, sees the same batches, so
two configurations are compared on the differences of ``val_acc_last_epoch`` seed by seed
(mean ± sample std, how many seeds agree with the sign of the mean, two-sided paired t-test).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
from scipy.stats import ttest_rel

COMPARISONS = [  # (label, config a, config b): a - b
    ("lr 1e-4 − 1e-5 (model10 − model1)", 10, 1), ("lr 1e-3 − 1e-4 (model11 − model10)", 11, 10),
    ("lr 1e-2 − 1e-3 (model12 − model11)", 12, 11), ("50 − 10 epochs (model2 − model1)", 2, 1),
    ("100 − 50 epochs (model3 − model2)", 3, 2), ("batch 16 − 32 (model4 − model5)", 4, 5),
    ("batch 32 − 64 (model5 − model6)", 5, 6), ("batch 64 − 128 (model6 − model7)", 6, 7),
    ("batch 256 − 512 (model1 − model8)", 1, 8),
]


def main(path: Path) -> None:
    by_config: dict[int, dict[int, float]] = {}
    with path.open() as handle:
        for row in csv.DictReader(handle):
            by_config.setdefault(int(row["config_id"]), {})[int(row["seed"])] = float(row["val_acc_last_epoch"])
    print("| comparison | difference | seeds agreeing | p |\n|---|---|---|---|")
    for label, a, b in COMPARISONS:
        seeds = sorted(by_config[a].keys() & by_config[b].keys())
        x, y = np.array([by_config[a][s] for s in seeds]), np.array([by_config[b][s] for s in seeds])
        d = x - y
        agreeing = int((np.sign(d) == np.sign(d.mean())).sum())
        print(f"| {label} | {d.mean():+.4f} ± {d.std(ddof=1):.4f} | {agreeing}/{len(d)} | {ttest_rel(x, y).pvalue:.2g} |")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/lab1-study/results.csv"))
