"""The SHA-256 that identifies a dataset version's content.

Two files hold the same data when they give the same canonical frame (see
`core.data.tabular`), whatever their formatting: quoting, trailing zeros (`1.50` and `1.5`),
line endings, a byte-order mark, or CSV versus Parquet.

What is hashed is each column in its compact stored form (`core.data.chunks.compact_column`),
which is a function of the canonical values alone: the narrowest integer type, decimals
as scaled integers, text as a dictionary of first appearances, dates as days. Hashing that
form instead of one 64-bit value per cell hashes about a third of the bytes, each column
can be hashed in its own thread as soon as it is compacted, and a stored version can be
re-hashed from its chunks without going back through pandas (migration 0008 does).

The scheme (`pitboard-content-v2`):

- per column, a SHA-256 of: the length-prefixed JSON `[name, kind]`, a bit mask of the
  missing values, then the values with missing ones zeroed. `kind` names the logical kind
  and the stored type: `int:int16` (integers, and floats that are all whole numbers, so
  `1.0` and `1` agree), `decimal3:int32` (floats with 3 decimals, as integers times
  10**3), `float:double` (other floats, -0.0 as 0.0), `bool`, `date:date32[day]` and
  `timestamp:timestamp[s]` (integers in the unit), `category:int8` (the dictionary's
  int64 lengths and UTF-8 bytes, then the indices), `text` (int64 lengths, then bytes);
- the version's hash: SHA-256 of the scheme name, the row and column counts and the
  column digests in column order.

Changing how columns are compacted changes hashes, so it needs a new scheme name and a
migration that re-hashes stored versions.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

SCHEME = b"pitboard-content-v2\x00"


def content_hash(frame: "pd.DataFrame") -> str:
    """Hex SHA-256 of a canonical frame (`core.data.tabular.normalize_frame`)."""
    from core.data.chunks import compact_column

    digests = (column_digest(*compact_column(str(name), frame[name])) for name in frame.columns)
    return combine(len(frame), frame.shape[1], digests)


def table_hash(table: "pa.Table") -> str:
    """Hex SHA-256 of a table of compacted columns, such as a version's decoded chunks."""
    digests = (column_digest(field, table.column(i)) for i, field in enumerate(table.schema))
    return combine(table.num_rows, table.num_columns, digests)


def combine(n_rows: int, n_columns: int, digests: Iterable[bytes]) -> str:
    """The version's hash from its column digests, in column order."""
    digest = hashlib.sha256(SCHEME)
    digest.update(struct.pack("<qq", n_rows, n_columns))
    for column in digests:
        digest.update(column)
    return digest.hexdigest()


def column_digest(field: "pa.Field", array: "pa.Array | pa.ChunkedArray") -> bytes:
    """SHA-256 of one compacted column (`core.data.chunks.compact_column`)."""
    import pyarrow as pa

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    header = json.dumps([field.name, _kind(field, array.type)]).encode("utf-8")
    digest = hashlib.sha256(struct.pack("<q", len(header)) + header)
    missing = array.is_null().to_numpy(zero_copy_only=False) if array.null_count else np.zeros(len(array), bool)
    digest.update(np.packbits(missing).tobytes())
    for block in _value_blocks(array):
        digest.update(block)
    return digest.digest()


def _kind(field: "pa.Field", arrow_type: "pa.DataType") -> str:
    import pyarrow as pa

    from core.data.chunks import field_metadata

    decimals = field_metadata(field).get("decimals")
    if pa.types.is_dictionary(arrow_type):
        return f"category:{arrow_type.index_type}"
    if pa.types.is_large_string(arrow_type):
        return "text"
    if pa.types.is_boolean(arrow_type):
        return "bool"
    if pa.types.is_date(arrow_type):
        return f"date:{arrow_type}"
    if pa.types.is_timestamp(arrow_type):
        return f"timestamp:{arrow_type}"
    if pa.types.is_integer(arrow_type):
        return f"int:{arrow_type}" if decimals in (None, "0") else f"decimal{decimals}:{arrow_type}"
    return f"float:{arrow_type}"


def _value_blocks(array: "pa.Array") -> Iterator[bytes | memoryview | np.ndarray]:
    """The value bytes of a compact column, as views where Arrow's buffers allow (no copies)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrow_type = array.type
    if pa.types.is_dictionary(arrow_type):
        yield from _text_blocks(array.dictionary)
        yield _little_endian(_zero_filled(array.indices, 0), arrow_type.index_type.to_pandas_dtype())
    elif pa.types.is_large_string(arrow_type):
        yield from _text_blocks(array)
    elif pa.types.is_boolean(arrow_type):
        yield _zero_filled(array, False).view(np.uint8)
    elif pa.types.is_date32(arrow_type):
        yield _little_endian(_zero_filled(array.cast(pa.int32()), 0), np.int32)
    elif pa.types.is_temporal(arrow_type):
        yield _little_endian(_zero_filled(array.cast(pa.int64()), 0), np.int64)
    elif pa.types.is_integer(arrow_type):
        yield _little_endian(_zero_filled(array, 0), arrow_type.to_pandas_dtype())
    else:
        yield _little_endian(_zero_filled(pc.cast(array, pa.float64()), 0.0) + 0.0, np.float64)  # -0.0 as 0.0


def _little_endian(values: np.ndarray, dtype: object) -> np.ndarray:
    """The values as a contiguous little-endian array of `dtype`, copied only if they are not one."""
    return np.ascontiguousarray(values, dtype=np.dtype(dtype).newbyteorder("<"))


def _zero_filled(array: "pa.Array", zero: object) -> np.ndarray:
    import pyarrow.compute as pc

    if array.null_count:
        array = pc.fill_null(array, zero)
    return array.to_numpy(zero_copy_only=False)


def _text_blocks(array: "pa.Array") -> Iterator[bytes | memoryview]:
    import pyarrow.compute as pc

    array = _zero_filled_text(array)
    yield _little_endian(pc.binary_length(array).to_numpy(zero_copy_only=False), np.int64)
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset : array.offset + len(array) + 1]
    data = array.buffers()[2]
    if data is not None:
        yield memoryview(data)[int(offsets[0]) : int(offsets[-1])]


def _zero_filled_text(array: "pa.Array") -> "pa.Array":
    import pyarrow as pa
    import pyarrow.compute as pc

    if array.type != pa.large_string():
        array = array.cast(pa.large_string())
    return pc.fill_null(array, "") if array.null_count else array
