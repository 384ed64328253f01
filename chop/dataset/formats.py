"""Read a JSC table from any of the real file formats into named numpy columns.

The format is recognised from the file's content, not its name: the CERNBox file is HDF5 although
it ends in ``.z``. Every reader returns a :class:`Columns` (the names present and the arrays of
the ones asked for) so that column mapping and label handling live in one place
(:mod:`chop.dataset.prepare`), whatever the format.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chop.errors import DataError

H5_KEY = "t_allpar_new"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_PARQUET_MAGIC = b"PAR1"
_ARFF_ATTRIBUTE = re.compile(r"@attribute\s+('[^']*'|\"[^\"]*\"|\S+)\s+(.+)$", re.IGNORECASE)


ColumnPicker = Callable[[Sequence[str]], list[str]]
"""Given all column names of a file, returns the ones to read (so big files are read partially)."""


@dataclass(frozen=True)
class Columns:
    """The columns of one file: ``names`` in file order, ``arrays`` for those that were read."""

    path: Path
    format: str
    names: tuple[str, ...]
    arrays: dict[str, np.ndarray]
    rows: int


def detect_format(path: Path) -> str:
    """Return "hdf5", "arff", "parquet" or "csv" from the file's first bytes, or raise a one-line error."""
    if not path.exists():
        raise DataError(f"data file {path} does not exist")
    if path.is_dir():
        raise DataError(f"{path} is a directory; expected a JSC data file")
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError as error:
        raise DataError(f"cannot read {path}: {error.strerror or error}") from None
    if not head:
        raise DataError(f"data file {path} is empty")
    if head.startswith(_HDF5_MAGIC):
        return "hdf5"
    if head.startswith(_PARQUET_MAGIC):
        return "parquet"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and "\x00" not in text:
        first = next((line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("%")), "")
        if first.lower().startswith("@relation"):
            return "arff"
        if "," in first:
            return "csv"
    raise DataError(f"{path} is not a JSC data file: expected HDF5 (key '{H5_KEY}'), ARFF, parquet or CSV")


def read_columns(path: Path, want: ColumnPicker) -> Columns:
    """Read the columns ``want`` picks from the file's column names."""
    kind = detect_format(path)
    reader = {"hdf5": _read_hdf5, "arff": _read_arff, "parquet": _read_parquet, "csv": _read_csv}[kind]
    return reader(path, want)


def _read_hdf5(path: Path, want: ColumnPicker) -> Columns:
    import h5py

    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise DataError(f"cannot open HDF5 file {path}: {error}") from None
    with handle:
        if H5_KEY not in handle:
            keys = ", ".join(sorted(handle.keys())) or "none"
            raise DataError(f"HDF5 file {path} has no '{H5_KEY}' dataset (keys: {keys})")
        table = handle[H5_KEY]
        names = tuple(table.dtype.names or ())
        if not names:
            raise DataError(f"HDF5 dataset {path}:{H5_KEY} is not a structured array with named columns")
        picked = want(names)  # 16 features and the label column(s): always several fields
        rows = int(table.shape[0]) if table.shape else 0
        data = table.fields(list(picked))[()]
    arrays = {name: _h5_column(data[name]) for name in picked}
    return Columns(path, "hdf5", names, arrays, rows)


def _h5_column(column: np.ndarray) -> np.ndarray:
    """Numbers as float64; byte or text fields (e.g. a ``class`` column) as Python strings."""
    if column.dtype.kind in "SUO":
        return np.array([v.decode() if isinstance(v, bytes) else str(v) for v in column.tolist()], dtype=object)
    return column.astype(np.float64)


def _read_parquet(path: Path, want: ColumnPicker) -> Columns:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        names = tuple(parquet.schema_arrow.names)
        table = parquet.read(columns=want(names))
    except (OSError, ValueError) as error:
        raise DataError(f"cannot read parquet file {path}: {error}") from None
    return Columns(path, "parquet", names, _arrow_arrays(table), table.num_rows)


def _read_csv(path: Path, want: ColumnPicker) -> Columns:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    try:
        table = pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(null_values=["", "nan", "NaN", "?"]))
    except (pa.ArrowInvalid, OSError) as error:
        raise DataError(f"cannot parse CSV file {path}: {_first_line(error)}") from None
    names = tuple(table.column_names)
    return Columns(path, "csv", names, _arrow_arrays(table.select(want(names))), table.num_rows)


def _read_arff(path: Path, want: ColumnPicker) -> Columns:
    """Parse an ARFF file: the header by hand, the data section with pyarrow's CSV reader.

    scipy.io.arff parses row by row in Python; this path reads OpenML's 830k-row file several
    times faster (docs/datasets.md has the measurement). Sparse ARFF (``{...}`` rows) is refused.
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv

    raw = path.read_bytes()
    names: list[str] = []
    offset = 0
    for line in io.BytesIO(raw):
        offset += len(line)
        text = line.decode("utf-8", errors="replace").strip()
        if not text or text.startswith("%"):
            continue
        lowered = text.lower()
        if lowered.startswith("@data"):
            break
        if lowered.startswith("@attribute"):
            match = _ARFF_ATTRIBUTE.match(text)
            if match is None:
                raise DataError(f"ARFF file {path}: cannot parse attribute line '{text}'")
            names.append(match.group(1).strip("'\""))
    else:
        raise DataError(f"ARFF file {path} has no @data section")
    if not names:
        raise DataError(f"ARFF file {path} declares no attributes")
    body = raw[offset:]
    if body.lstrip().startswith(b"{"):
        raise DataError(f"ARFF file {path} is sparse; only dense ARFF is supported")
    if b"%" in body:
        body = b"\n".join(line for line in body.split(b"\n") if not line.lstrip().startswith(b"%"))
    picked = want(names)
    if not body.strip():
        return Columns(path, "arff", tuple(names), {name: np.empty(0) for name in picked}, 0)
    try:
        table = pcsv.read_csv(
            io.BytesIO(body),
            read_options=pcsv.ReadOptions(column_names=names),
            parse_options=pcsv.ParseOptions(quote_char="'", ignore_empty_lines=True),
            convert_options=pcsv.ConvertOptions(null_values=["?"], include_columns=picked),
        )
    except pa.ArrowInvalid as error:
        raise DataError(f"cannot parse ARFF data of {path}: {_first_line(error)}") from None
    return Columns(path, "arff", tuple(names), _arrow_arrays(table), table.num_rows)


def _arrow_arrays(table) -> dict[str, np.ndarray]:
    """Arrow columns as numpy: numbers as float64 with NaN for nulls, everything else as objects.

    Avoids ``pyarrow.compute``, whose import alone costs most of a second on a loaded machine.
    """
    import pyarrow as pa

    arrays: dict[str, np.ndarray] = {}
    for name, column in zip(table.column_names, table.columns):
        kind = column.type
        if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
            values = column.to_numpy(zero_copy_only=False)
            if values.dtype == object:  # nulls in an integer or boolean column
                values = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
            arrays[name] = values.astype(np.float64)
        else:
            arrays[name] = np.array(column.to_pylist(), dtype=object)
    return arrays


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
