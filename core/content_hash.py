"""The SHA-256 that identifies a dataset version's content.

Two files hold the same data when they give the same canonical frame (see
`core.tabular`), whatever their formatting: quoting, trailing zeros (`1.50` and `1.5`),
line endings, a byte-order mark, or CSV versus Parquet. The canonical form hashed is:

- a prefix naming this scheme, then the row and column counts;
- per column, in order: its name and kind as JSON, a bit mask of missing values, and the
  values with missing ones zeroed: `int` (int64, also used for floats that are all whole
  numbers below 2**53, so `1.0` and `1` agree), `float` (float64, -0.0 as 0.0), `bool`
  (one byte), `datetime` (int64 nanoseconds since the epoch), `str` (int64 UTF-8 lengths,
  then the UTF-8 bytes).

Hashing works on whole numpy/Arrow buffers, never value by value, so a million rows
take a fraction of a second.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterator

import numpy as np
import pandas as pd

SCHEME = b"pitboard-content-v1\x00"
_EXACT_INT = 2.0**53


def content_hash(frame: pd.DataFrame) -> str:
    """Hex SHA-256 of the canonical form of a canonical frame (`core.tabular.normalize_frame`)."""
    digest = hashlib.sha256(SCHEME)
    digest.update(struct.pack("<qq", len(frame), frame.shape[1]))
    for name in frame.columns:
        series = frame[name]
        kind, parts = canonical_column(series)
        header = json.dumps([str(name), kind]).encode("utf-8")
        digest.update(struct.pack("<q", len(header)) + header)
        digest.update(np.packbits(series.isna().to_numpy()).tobytes())
        for part in parts:
            digest.update(part)
    return digest.hexdigest()


def canonical_column(series: pd.Series) -> tuple[str, Iterator[bytes | memoryview]]:
    """The kind name and the byte blocks hashed for one column."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool", iter([series.fillna(False).to_numpy(dtype=np.uint8).tobytes()])
    if pd.api.types.is_datetime64_any_dtype(dtype):
        ints = series.to_numpy(dtype="datetime64[ns]").view(np.int64)
        return "datetime", iter([np.where(series.isna().to_numpy(), 0, ints).astype("<i8").tobytes()])
    if pd.api.types.is_integer_dtype(dtype):
        return "int", iter([series.to_numpy(dtype="<i8").tobytes()])
    if pd.api.types.is_float_dtype(dtype):
        return _float_column(series.to_numpy(dtype=np.float64))
    return "str", _text_blocks(series)


def _float_column(values: np.ndarray) -> tuple[str, Iterator[bytes]]:
    missing = np.isnan(values)
    filled = np.where(missing, 0.0, values)
    if np.isfinite(filled).all() and np.array_equal(np.trunc(filled), filled) and (np.abs(filled) < _EXACT_INT).all():
        return "int", iter([filled.astype("<i8").tobytes()])
    return "float", iter([(filled + 0.0).astype("<f8").tobytes()])


def _text_blocks(series: pd.Series) -> Iterator[bytes | memoryview]:
    import pyarrow as pa
    import pyarrow.compute as pc

    array = pa.array(series, type=pa.large_string(), from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    array = pc.fill_null(array, "")
    lengths = pc.binary_length(array).to_numpy(zero_copy_only=False).astype("<i8")
    yield lengths.tobytes()
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset : array.offset + len(array) + 1]
    data = array.buffers()[2]
    if data is not None:
        yield memoryview(data)[int(offsets[0]) : int(offsets[-1])]
