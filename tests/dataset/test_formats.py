"""Every real format reads to the same rows, labels and cleaning counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from jsc_files import WRITERS, make_rows, reference_clean, write_arff, write_h5

from chop.dataset.formats import detect_format
from chop.dataset.prepare import clean, read_table
from chop.dataset.splits import JSC_FEATURES, JSC_LABEL_COLUMNS


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_each_format_reads_rows_labels_and_cleaning_counts(kind: str, tmp_path: Path) -> None:
    rows = make_rows(40, seed=3, duplicates=5, nan_rows=3)
    path = WRITERS[kind](tmp_path, rows)
    cleaned = clean(path)
    expected_x, expected_y = reference_clean(rows)
    assert cleaned.rows_read == 48
    assert cleaned.nan_rows_dropped == 3
    assert cleaned.duplicates_dropped == 48 - 3 - len(expected_y)
    np.testing.assert_array_equal(cleaned.x, expected_x)
    np.testing.assert_array_equal(cleaned.y, expected_y)
    assert cleaned.y.dtype == np.int64


def test_format_is_recognised_by_content_not_name(tmp_path: Path) -> None:
    rows = make_rows(5)
    assert detect_format(write_h5(tmp_path / "data.z", rows)) == "hdf5"
    assert detect_format(write_arff(tmp_path / "data.txt", rows)) == "arff"
    parquet = WRITERS["parquet"](tmp_path, rows)
    assert detect_format(parquet.rename(tmp_path / "renamed.bin")) == "parquet"


def test_class_names_map_to_spec_order_case_insensitively(tmp_path: Path) -> None:
    lines = [",".join(JSC_FEATURES) + ",class"]
    for label in ["g", "Q", "W", "z", "t", "'w'"]:
        lines.append(",".join(["1.5"] * 16) + f",{label}")
    path = tmp_path / "labels.csv"
    path.write_text("\n".join(lines) + "\n")
    x, y, _, source = read_table(path)
    assert y.tolist() == [0, 1, 2, 3, 4, 2]
    assert source == "name:class"
    assert x.shape == (6, 16) and (x == 1.5).all()


def test_onehot_columns_take_precedence_over_a_label_column(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    onehot = np.zeros((4, 5))
    onehot[[0, 1, 2, 3], [0, 4, 4, 1]] = 1.0
    columns = {name: np.arange(4, dtype=np.float64) for name in JSC_FEATURES}
    columns.update({c: onehot[:, k] for k, c in enumerate(JSC_LABEL_COLUMNS)})
    columns["label"] = np.array([3, 3, 3, 3])
    pq.write_table(pa.table(columns), tmp_path / "t.parquet")
    _, y, _, source = read_table(tmp_path / "t.parquet")
    assert y.tolist() == [0, 4, 4, 1]
    assert source.startswith("onehot:")


def test_arff_with_quoted_names_and_comments_in_data(tmp_path: Path) -> None:
    header = ["@relation 'jets'"] + [f"@attribute '{f[2:]}' real" for f in JSC_FEATURES]
    header += ["@attribute class {g,q,w,z,t}", "@data", "% a comment inside the data"]
    body = [",".join(str(i + j) for j in range(16)) + ",'t'" for i in range(3)]
    path = tmp_path / "q.arff"
    path.write_text("\n".join(header + body) + "\n")
    x, y, columns, _ = read_table(path)
    assert y.tolist() == [4, 4, 4]
    assert x[2, 15] == 17.0
    assert columns.format == "arff" and columns.rows == 3
