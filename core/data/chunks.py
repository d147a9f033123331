"""Columnar chunks: how the rows of a dataset version are stored.

Why: one SQLite row per data row cost ~4 s per million rows in INSERTs alone, while a
blob costs little more than its bytes. So a version's rows are cut into chunks of
`ROWS_PER_CHUNK` rows, and each chunk is ONE row of `dataset_chunks` (migration 0006)
whose blob is an Arrow IPC stream holding one record batch, one field per column in file
order, its buffers compressed with zstd. Reading a page decodes the one or two chunks
that hold it; loading a frame decodes every chunk straight into numpy buffers.

Writing a blob durably costs about its size (WAL, then the checkpoint), so each column is
stored in the smallest Arrow type that gives back exactly the imported values, and each
field's metadata says how to restore them (`dtype`, the canonical pandas dtype of
`core.data.tabular`, and for scaled floats `decimals`):

- int64: the narrowest of int8..int64 that holds the column's range;
- float64: when every value is a decimal with at most `MAX_DECIMALS` digits after the
  point (CSV floats usually are), the integers `value * 10**d` in the narrowest int type,
  restored as `integer / 10**d`. The encoder runs that restoration and keeps the integers
  only if it gives back every value exactly (-0.0 comes back as 0.0, as the content hash
  and the former SQLite tables already had it); otherwise the column stays float64;
- bool and boolean (bool with missing values): bool;
- str: a dictionary of the distinct values and narrow int indices when the leading
  `SAMPLE` values have at most half as many distinct values (categories), else
  large_string;
- datetime64[ns]: date32 when every value is at midnight, else a timestamp in the
  coarsest of s, us and ns that loses nothing. That unit is also the ISO 8601 precision
  `python_rows` shows, the one the former per-version tables stored as text.

Missing values (NaN, NaT, None, pd.NA) are Arrow nulls in every type.

Measured on benchmarks/import_csv.py (1M x 20): the compact types take the rows from
173 to 56 MiB, and zstd level 1 to 37 MiB (lz4: 53 MiB). zstd costs about 0.15 s of CPU
in the import's threads and saves about as much in the commit: imports took the same
time with and without it, for a database a third smaller.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

ROWS_PER_CHUNK = 32_768  # a 100-row page decodes one 32,768-row chunk in ~5 ms
COMPRESSION = "zstd"
COMPRESSION_LEVEL = 1
MAX_DECIMALS = 6
SAMPLE = 1_000  # leading values that choose decimals and dictionaries before whole columns are tried
_EXACT = 2.0**53  # integers up to here convert to float64 and back exactly
_INT_TYPES = (np.int8, np.int16, np.int32, np.int64)
_ISO_UNITS = (("D", 86_400 * 10**9), ("s", 10**9), ("us", 10**3))


@dataclass(frozen=True)
class Chunk:
    """One encoded chunk: rows [first_row, first_row + n_rows) of a version."""

    index: int
    first_row: int
    n_rows: int
    data: Any  # a pyarrow Buffer (SQLite binds it as a BLOB)


# -- writing ----------------------------------------------------------------------------


def compact_column(name: str, series: "pd.Series") -> tuple["pa.Field", "pa.Array"]:
    """One canonical column (`core.data.tabular`) as its smallest exact Arrow field and array."""
    import pyarrow as pa

    dtype = str(series.dtype)
    metadata = {"dtype": dtype}
    if dtype == "int64":
        array = pa.array(_narrowest(series.to_numpy()))
    elif dtype == "float64":
        array, decimals = _compact_floats(series.to_numpy())
        if decimals is not None:
            metadata["decimals"] = str(decimals)
    elif dtype in ("bool", "boolean"):
        array = pa.array(series, type=pa.bool_(), from_pandas=True)
    elif dtype.startswith("datetime64"):
        array = _compact_moments(series.to_numpy(dtype="datetime64[ns]"))
    else:
        array = _compact_text(pa.array(series, type=pa.large_string(), from_pandas=True))
    return pa.field(name, array.type, metadata=metadata), array


def _narrowest(values: np.ndarray) -> np.ndarray:
    """Integers in the narrowest numpy int type that holds their range."""
    if not len(values):
        return values
    return values.astype(_narrow_type(values.min(), values.max()), copy=False)


def _narrow_type(low: float, high: float) -> type[np.signedinteger]:
    """The narrowest numpy int type that holds [low, high] (which must fit in int64)."""
    return next(kind for kind in _INT_TYPES if np.iinfo(kind).min <= low and high <= np.iinfo(kind).max)


def _compact_floats(values: np.ndarray) -> tuple["pa.Array", int | None]:
    """Floats as scaled integers when that is exact (with the number of decimals), else as is."""
    import pyarrow as pa

    missing = np.isnan(values)
    if not missing.any():
        missing = None
    filled = values if missing is None else np.where(missing, 0.0, values)
    decimals = next((d for d in range(MAX_DECIMALS + 1) if _scaled(filled[:SAMPLE], d) is not None), None)
    scaled = None if decimals is None else _scaled(filled, decimals)
    if scaled is None:
        return pa.array(values, type=pa.float64(), from_pandas=True), None
    return pa.array(scaled, mask=missing), decimals


def _scaled(values: np.ndarray, decimals: int) -> np.ndarray | None:
    """`values * 10**decimals` in the narrowest int type, if dividing back gives every value exactly.

    A few whole-array passes over a million floats, each of them costed: this runs on every
    float column of every import.
    """
    if not len(values):
        return np.zeros(0, np.int8)
    scale = 10.0**decimals
    with np.errstate(over="ignore", invalid="ignore"):  # huge values overflow: they fail the check below
        rounded = values * scale
        np.rint(rounded, out=rounded)
    low, high = rounded.min(), rounded.max()
    if not (-_EXACT < low and high < _EXACT):
        return None
    integers = rounded.astype(_narrow_type(low, high))
    return integers if np.array_equal(integers / scale, values) else None


def _compact_text(text: "pa.Array | pa.ChunkedArray") -> "pa.Array | pa.ChunkedArray":
    """Categories as a dictionary with narrow indices; other text as it is."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(pc.unique(text.slice(0, SAMPLE))) * 2 > min(len(text), SAMPLE):
        return text
    encoded = pc.dictionary_encode(text)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.unify_dictionaries().combine_chunks()
    if len(encoded.dictionary) * 2 > len(text):
        return text
    indices = encoded.indices
    narrow = _narrowest(pc.fill_null(indices, 0).to_numpy(zero_copy_only=False))
    missing = indices.is_null().to_numpy(zero_copy_only=False) if indices.null_count else None
    return pa.DictionaryArray.from_arrays(pa.array(narrow, mask=missing), encoded.dictionary)


def _compact_moments(moments: np.ndarray) -> "pa.Array":
    """Datetimes as date32 or a timestamp in the coarsest unit that loses nothing."""
    import pyarrow as pa

    missing = np.isnat(moments)
    nanos = moments.view(np.int64)[~missing]
    unit = next((unit for unit, step in _ISO_UNITS if not (nanos % step).any()), "ns")
    mask = missing if missing.any() else None
    if unit == "D":
        return pa.array(moments.astype("datetime64[D]"), type=pa.date32(), mask=mask)
    return pa.array(moments.astype(f"datetime64[{unit}]"), type=pa.timestamp(unit), mask=mask)


def compact_table(columns: Iterable[tuple["pa.Field", "pa.Array"]]) -> "pa.Table":
    """The table of compacted columns that chunks are cut from."""
    import pyarrow as pa

    fields, arrays = zip(*columns)
    return pa.Table.from_arrays(list(arrays), schema=pa.schema(fields))


def encode_frame(frame: "pd.DataFrame") -> list[Chunk]:
    """Every chunk of a canonical frame, one after the other (imports run these steps in threads)."""
    table = compact_table(compact_column(str(name), frame[name]) for name in frame.columns)
    return [encode_chunk(table, index) for index in range(chunk_count(table.num_rows))]


def encode_chunk(table: "pa.Table", index: int) -> Chunk:
    """Chunk `index` of a table of compacted columns, as an Arrow IPC stream."""
    import pyarrow as pa

    first_row = index * ROWS_PER_CHUNK
    part = table.slice(first_row, ROWS_PER_CHUNK)
    codec = None if COMPRESSION is None else pa.Codec(COMPRESSION, COMPRESSION_LEVEL)
    options = pa.ipc.IpcWriteOptions(compression=codec, use_threads=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(part, max_chunksize=max(1, part.num_rows))
    return Chunk(index, first_row, part.num_rows, sink.getvalue())


def chunk_count(n_rows: int) -> int:
    """How many chunks hold `n_rows` rows (at least one, so the schema is always stored)."""
    return max(1, -(-n_rows // ROWS_PER_CHUNK))


def insert_chunk(conn: sqlite3.Connection, version_id: int, chunk: Chunk) -> None:
    """Store one chunk of a dataset version (inside the caller's transaction)."""
    conn.execute(
        "INSERT INTO dataset_chunks (version_id, chunk_index, first_row, n_rows, data) VALUES (?, ?, ?, ?, ?)",
        (version_id, chunk.index, chunk.first_row, chunk.n_rows, chunk.data),
    )


# -- reading ----------------------------------------------------------------------------


def stored_table(conn: sqlite3.Connection, version_id: int, columns: list[str] | None = None) -> "pa.Table":
    """Every chunk of a dataset version, decoded and concatenated (optionally some columns)."""
    import pyarrow as pa

    blobs = conn.execute("SELECT data FROM dataset_chunks WHERE version_id = ? ORDER BY chunk_index", (version_id,))
    return pa.concat_tables([decode(blob[0], columns) for blob in blobs])


def decode(data: bytes, columns: list[str] | None = None) -> "pa.Table":
    """The rows of one chunk blob, optionally only some columns (in the order given)."""
    import pyarrow as pa

    table = pa.ipc.open_stream(pa.py_buffer(data)).read_all()
    return table if columns is None else table.select(columns)


def python_rows(table: "pa.Table") -> list[tuple[Any, ...]]:
    """Rows as tuples of the values the former per-version SQLite tables gave back.

    None for missing values, ints, floats, bools as 0/1 ints, text, and datetimes as ISO
    8601 text in the column's unit: what `pitboard data head` and the Data pane show.
    """
    values = [_python_values(table.column(i), table.schema.field(i)) for i in range(table.num_columns)]
    return list(zip(*values))


def _python_values(column: "pa.ChunkedArray", field: "pa.Field") -> list[Any]:
    import pyarrow as pa

    meta = field_metadata(field)
    if meta["dtype"] in ("bool", "boolean"):
        return column.cast(pa.int8()).to_pylist()
    if "decimals" in meta:
        return _with_nulls(_restored_floats(column, int(meta["decimals"])).tolist(), column)
    if pa.types.is_date32(field.type) or pa.types.is_timestamp(field.type):
        unit = "D" if pa.types.is_date32(field.type) else field.type.unit
        return _with_nulls(np.datetime_as_string(column.to_numpy(), unit=unit).tolist(), column)
    return column.to_pylist()


def _with_nulls(values: list[Any], column: "pa.ChunkedArray") -> list[Any]:
    if not column.null_count:
        return values
    for position in np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False)):
        values[position] = None
    return values


def _restored_floats(column: "pa.ChunkedArray", decimals: int) -> np.ndarray:
    """Scaled integers divided back: the exact floats the encoder checked."""
    import pyarrow.compute as pc

    return pc.fill_null(column, 0).to_numpy().astype(np.float64) / 10.0**decimals


def pandas_column(column: "pa.ChunkedArray", field: "pa.Field") -> Any:
    """A decoded column as the numpy or pandas array of its imported dtype."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    meta = field_metadata(field)
    dtype = meta["dtype"]
    missing = column.is_null().to_numpy(zero_copy_only=False) if column.null_count else None
    if dtype == "int64":
        return column.to_numpy().astype(np.int64)
    if dtype == "float64" and "decimals" in meta:
        values = _restored_floats(column, int(meta["decimals"]))
        if missing is not None:
            values[missing] = np.nan
        return values
    if dtype == "float64":
        return column.to_numpy().astype(np.float64)  # nulls come back as NaN
    if dtype == "bool":
        return column.to_numpy().astype(bool)
    if dtype == "boolean":
        filled = pc.fill_null(column, False).to_numpy()
        return pd.arrays.BooleanArray(filled, np.zeros(len(filled), bool) if missing is None else missing)
    if dtype.startswith("datetime64"):
        return column.to_numpy().astype(dtype)
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    return pd.array(column, dtype="str")


def field_metadata(field: "pa.Field") -> dict[str, str]:
    """The metadata `compact_column` gave a field: `dtype`, and `decimals` for scaled floats."""
    return {key.decode(): value.decode() for key, value in (field.metadata or {}).items()}
