"""Migration 0006, the data part: move every `ds_<id>` table's rows into `dataset_chunks`.

Until 0006 each dataset version kept its rows in its own table, named in
`dataset_versions.table_name`, with one typed column per dataset column in file order
(INTEGER, REAL, TEXT; bools as 0/1, datetimes as ISO 8601 text, missing values as NULL).
Each table is read back into the dtypes recorded in `dataset_columns`, encoded by
`core.data.chunks` exactly as an import encodes a frame, and dropped. The store runs this
right after 0006_dataset_chunks.sql, in the same transaction. pandas and Arrow are only
imported when there are rows to convert, so creating a new database stays quick.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def migrate(conn: sqlite3.Connection) -> None:
    """Convert every version's rows table into chunks, then point table_name at them."""
    cursor = conn.cursor()
    cursor.row_factory = None
    versions = cursor.execute("SELECT id, n_rows, table_name FROM dataset_versions ORDER BY id").fetchall()
    if versions:
        _convert(conn, cursor, versions)
    cursor.execute("UPDATE dataset_versions SET table_name = 'dataset_chunks:' || id")


def _convert(conn: sqlite3.Connection, cursor: sqlite3.Cursor, versions: list[tuple[int, int, str]]) -> None:
    from core.data.chunks import encode_frame, insert_chunk

    for version_id, n_rows, table in versions:
        frame = _old_rows(cursor, version_id, table)
        if len(frame) != n_rows:
            raise RuntimeError(f"dataset version {version_id}: table {table} holds {len(frame)} rows, not {n_rows}")
        for chunk in encode_frame(frame):
            insert_chunk(conn, version_id, chunk)
        cursor.execute(f"DROP TABLE {_quote(table)}")


def _old_rows(cursor: sqlite3.Cursor, version_id: int, table: str) -> "pd.DataFrame":
    """A ds_<id> table as the DataFrame the import stored, with the recorded dtypes."""
    import pandas as pd

    exists = cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
    if exists is None:
        raise RuntimeError(f"dataset version {version_id}: its rows table {table!r} is missing")
    schema = cursor.execute(
        "SELECT name, dtype FROM dataset_columns WHERE version_id = ? ORDER BY position", (version_id,)
    ).fetchall()
    rows = cursor.execute(f"SELECT {', '.join(_quote(name) for name, _ in schema)} FROM {_quote(table)} ORDER BY rowid")
    values = list(zip(*rows.fetchall())) or [()] * len(schema)
    return pd.DataFrame({name: _restore(column, dtype) for (name, dtype), column in zip(schema, values)})


def _restore(values: tuple[Any, ...], dtype: str) -> Any:
    """One column of SQL values in its imported dtype (what load_frame did before 0006)."""
    import numpy as np
    import pandas as pd

    if dtype in ("int64", "float64"):
        return np.array(values, dtype=dtype)
    if dtype == "bool":
        return np.array(values, dtype=bool)
    if dtype == "boolean":
        return pd.array([None if v is None else bool(v) for v in values], dtype="boolean")
    text = pd.Series(values, dtype="str")
    if dtype.startswith("datetime64"):
        return pd.to_datetime(text, format="ISO8601").astype(dtype)
    return text


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
