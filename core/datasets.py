"""Datasets: CSV/Parquet imports stored as content-hashed, immutable versions.

A version is identified by the SHA-256 of its canonical content (`core.content_hash`) and
the columns declared as target, time and id. Adding the same content again returns the
existing version and writes nothing; anything else becomes version N+1. The target, time
and id columns default to those of the dataset's latest version when the new data has
them, so `pitboard data add credit next_month.csv` keeps `--target default`.

Each version's rows live in their own table `ds_<version id>` with typed columns
(INTEGER, REAL, TEXT; datetimes as ISO 8601 TEXT) in file order, so panes page through
them by rowid and any SQLite tool can read them. The table, its rows, the version row,
the schema and profile rows and the audit row are written in one transaction: an import
that fails leaves nothing behind.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import NotFound, PitboardError
from core.refs import parse_ref, validate_name
from core.store import Store

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from core.profiling import ColumnProfile

MAX_ROWS_PER_INSERT = 100


@dataclass(frozen=True)
class DatasetVersion:
    """One immutable version of a dataset (a row of `dataset_versions`)."""

    id: int
    dataset: str
    version: int
    sha256: str
    n_rows: int
    n_columns: int
    target: str | None
    time_column: str | None
    id_column: str | None
    table: str
    source: str
    created_at: float

    @property
    def ref(self) -> str:
        """`name@version`, the way users refer to it."""
        return f"{self.dataset}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        """The fields plus `ref`, for JSON output."""
        return {"ref": self.ref, **asdict(self)}


def read_tabular(path: str | Path) -> "pd.DataFrame":
    """Read a CSV or Parquet file with every bad-input check (see `core.tabular`)."""
    from core.tabular import read_tabular as read

    return read(path)


def add_dataset(
    store: Store,
    name: str,
    path: str | Path,
    *,
    target: str | None = None,
    time_column: str | None = None,
    id_column: str | None = None,
) -> tuple[DatasetVersion, bool]:
    """Import a file as a version of dataset `name`; the bool says whether it is new."""
    validate_name(name, "dataset name")
    frame = read_tabular(path)
    return _add(store, name, frame, str(path), target, time_column, id_column)


def add_frame(
    store: Store,
    name: str,
    frame: "pd.DataFrame",
    *,
    source: str,
    target: str | None = None,
    time_column: str | None = None,
    id_column: str | None = None,
) -> tuple[DatasetVersion, bool]:
    """Store a DataFrame as a version of dataset `name` (retraining builds data this way)."""
    from core.tabular import normalize_frame

    validate_name(name, "dataset name")
    return _add(store, name, normalize_frame(frame, source), source, target, time_column, id_column)


def _add(
    store: Store,
    name: str,
    frame: "pd.DataFrame",
    source: str,
    target: str | None,
    time_column: str | None,
    id_column: str | None,
) -> tuple[DatasetVersion, bool]:
    from core.content_hash import content_hash
    from core.profiling import profile_frame

    target, time_column, id_column = _declared_columns(
        store, name, frame, source, target=target, time_column=time_column, id_column=id_column
    )
    sha256 = content_hash(frame)
    existing = _same_version(store, name, sha256, target, time_column, id_column)
    if existing is not None:
        return existing, False
    profiles = profile_frame(frame, target=target, id_column=id_column)
    with store.transaction() as conn:
        existing = _same_version(store, name, sha256, target, time_column, id_column)
        if existing is not None:  # another process imported it while we were hashing
            return existing, False
        now = store.clock()
        dataset_id = store.value("SELECT id FROM datasets WHERE name = ?", (name,))
        if dataset_id is None:
            dataset_id = conn.execute("INSERT INTO datasets (name, created_at) VALUES (?, ?)", (name, now)).lastrowid
        version = store.value("SELECT coalesce(max(version), 0) + 1 FROM dataset_versions WHERE dataset_id = ?", (dataset_id,))
        version_id = store.value("SELECT coalesce(max(id), 0) + 1 FROM dataset_versions")
        table = f"ds_{version_id}"
        conn.execute(
            "INSERT INTO dataset_versions (id, dataset_id, version, sha256, n_rows, n_columns, target, time_column,"
            " id_column, table_name, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (version_id, dataset_id, version, sha256, len(frame), frame.shape[1], target, time_column, id_column,
             table, source, now),
        )
        conn.executemany(
            "INSERT INTO dataset_columns (version_id, position, name, dtype, role, profile) VALUES (?, ?, ?, ?, ?, ?)",
            [(version_id, i, p.name, p.dtype, p.role, json.dumps(p.profile, allow_nan=False)) for i, p in enumerate(profiles)],
        )
        _create_table(conn, table, profiles)
        _insert_rows(conn, table, frame)
        store.audit(
            "data.add",
            f"{name}@{version}",
            {"sha256": sha256, "rows": len(frame), "columns": frame.shape[1], "source": source, "target": target},
        )
    return version_by_id(store, version_id), True


def _declared_columns(
    store: Store, name: str, frame: "pd.DataFrame", source: str, **given: str | None
) -> tuple[str | None, str | None, str | None]:
    """Check --target/--time-column/--id-column, inheriting the latest version's choices."""
    import pandas as pd

    latest = store.row(
        "SELECT v.target, v.time_column, v.id_column FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id"
        " WHERE d.name = ? ORDER BY v.version DESC LIMIT 1",
        (name,),
    )
    chosen: dict[str, str | None] = {}
    for key, value in given.items():
        option = "--" + key.replace("_", "-")
        if value is None:
            inherited = latest[key] if latest is not None else None
            chosen[key] = inherited if inherited in frame.columns else None
            continue
        if value not in frame.columns:
            listed = ", ".join(map(str, frame.columns[:30])) + (", ..." if frame.shape[1] > 30 else "")
            raise PitboardError(f"{source}: {option} {value!r} is not a column; columns: {listed}")
        chosen[key] = value
    named = [v for v in chosen.values() if v is not None]
    if len(named) != len(set(named)):
        raise PitboardError(f"{source}: --target, --time-column and --id-column must name different columns")
    time_column = chosen["time_column"]
    if time_column is not None and not pd.api.types.is_datetime64_any_dtype(frame[time_column].dtype):
        first = frame[time_column].dropna()
        sample = f" (first value {first.iloc[0]!r})" if len(first) else ""
        raise PitboardError(
            f"{source}: --time-column {time_column!r} does not hold ISO 8601 dates or times{sample}"
        )
    return chosen["target"], time_column, chosen["id_column"]


def _same_version(
    store: Store, name: str, sha256: str, target: str | None, time_column: str | None, id_column: str | None
) -> DatasetVersion | None:
    found = store.value(
        "SELECT v.id FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id WHERE d.name = ? AND v.sha256 = ?"
        " AND v.target IS ? AND v.time_column IS ? AND v.id_column IS ? ORDER BY v.version LIMIT 1",
        (name, sha256, target, time_column, id_column),
    )
    return None if found is None else version_by_id(store, found)


# -- storage of the rows --------------------------------------------------------------------

_SQL_TYPES = {"int64": "INTEGER", "bool": "INTEGER", "boolean": "INTEGER", "float64": "REAL"}


def quote(name: str) -> str:
    """A column or table name as a SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _create_table(conn: sqlite3.Connection, table: str, profiles: list["ColumnProfile"]) -> None:
    columns = ", ".join(f"{quote(p.name)} {_SQL_TYPES.get(p.dtype, 'TEXT')}" for p in profiles)
    conn.execute(f"CREATE TABLE {quote(table)} ({columns})")


def _insert_rows(conn: sqlite3.Connection, table: str, frame: "pd.DataFrame") -> None:
    """Bulk insert: Python values per column, many rows per statement, one transaction.

    The cost of `executemany` is mostly per statement, not per value, so rows go in
    groups of up to MAX_ROWS_PER_INSERT per INSERT (within SQLite's variable limit). The
    groups are cut from one row-major list filled by slice assignment, which interleaves
    the columns in C rather than value by value in Python. SQLite stores a float NaN as
    NULL, so float columns need no conversion.
    """
    n_rows, n_columns = frame.shape
    limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    per_statement = max(1, min(MAX_ROWS_PER_INSERT, limit // n_columns, n_rows))
    flat: list[Any] = [None] * (n_rows * n_columns)
    for position, name in enumerate(frame.columns):
        flat[position::n_columns] = _sql_values(frame[name])
    one_row = "(" + ", ".join("?" * n_columns) + ")"
    step = per_statement * n_columns
    grouped = (n_rows // per_statement) * step
    conn.executemany(
        f"INSERT INTO {quote(table)} VALUES " + ", ".join([one_row] * per_statement),
        (flat[start : start + step] for start in range(0, grouped, step)),
    )
    conn.executemany(
        f"INSERT INTO {quote(table)} VALUES {one_row}",
        (flat[start : start + n_columns] for start in range(grouped, len(flat), n_columns)),
    )


def _sql_values(series: "pd.Series") -> list[Any]:
    """One column as a list of Python values SQLite can bind (None or NaN for missing)."""
    import numpy as np
    import pandas as pd

    dtype = str(series.dtype)
    if dtype in ("int64", "float64"):
        return series.to_numpy().tolist()
    if dtype == "bool":
        return series.to_numpy(dtype=np.int8).tolist()
    if dtype == "boolean":
        return [None if v is pd.NA else int(v) for v in series.tolist()]
    codes, uniques = pd.factorize(series)
    if dtype.startswith("datetime64"):
        labels = iso_texts(uniques.to_numpy(dtype="datetime64[ns]"))
    else:
        labels = list(uniques)
    lookup = np.empty(len(labels) + 1, dtype=object)
    lookup[:-1] = labels
    lookup[-1] = None  # code -1: missing
    return lookup[codes].tolist()


def iso_texts(moments: "np.ndarray") -> list[str]:
    """Datetimes as ISO 8601 text, all in the coarsest unit that loses nothing.

    One unit per column keeps the text sortable in time order and readable in any SQLite
    tool: plain dates when every value is at midnight, else seconds, micro- or nanoseconds.
    """
    import numpy as np

    nanos = moments.view(np.int64)
    steps = (("D", 86_400 * 10**9), ("s", 10**9), ("us", 10**3))
    unit = next((unit for unit, step in steps if not (nanos % step).any()), "ns")
    return np.datetime_as_string(moments, unit=unit).tolist()


# -- reading --------------------------------------------------------------------------------

_VERSION_SELECT = (
    "SELECT v.id, d.name AS dataset, v.version, v.sha256, v.n_rows, v.n_columns, v.target, v.time_column,"
    " v.id_column, v.table_name AS \"table\", v.source, v.created_at"
    " FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id"
)


def version_by_id(store: Store, version_id: int) -> DatasetVersion:
    """The dataset version with this `dataset_versions.id` (runs and reports store ids)."""
    row = store.row(f"{_VERSION_SELECT} WHERE v.id = ?", (version_id,))
    if row is None:
        raise NotFound(f"dataset version id {version_id} not found")
    return DatasetVersion(**dict(row))


def resolve(store: Store, ref: str) -> DatasetVersion:
    """`name` (the latest version) or `name@3`; unknown names list what exists."""
    parsed = parse_ref(ref)
    if parsed.selector is not None and parsed.version is None:
        raise PitboardError(f"{ref}: a dataset version is a number, as in {parsed.name}@1")
    versions = [r["version"] for r in store.rows(
        "SELECT v.version FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id WHERE d.name = ?"
        " ORDER BY v.version", (parsed.name,))]
    if not versions:
        names = [r["name"] for r in store.rows("SELECT name FROM datasets ORDER BY name")]
        known = f"datasets: {', '.join(names)}" if names else "no datasets yet (pitboard data add NAME FILE)"
        raise NotFound(f"dataset {parsed.name!r} not found; {known}")
    version = parsed.version if parsed.version is not None else versions[-1]
    if version not in versions:
        raise NotFound(f"{ref} not found; {parsed.name} has versions {_span(versions)}")
    row = store.row(f"{_VERSION_SELECT} WHERE d.name = ? AND v.version = ?", (parsed.name, version))
    return DatasetVersion(**dict(row))


def _span(versions: list[int]) -> str:
    return f"{versions[0]}..{versions[-1]}" if len(versions) > 1 else str(versions[0])


def list_datasets(store: Store) -> list[dict[str, Any]]:
    """Every dataset with its latest version, for `pitboard data list` and the data pane."""
    rows = store.rows(
        "SELECT d.name, count(*) AS versions, max(v.version) AS latest FROM datasets d"
        " JOIN dataset_versions v ON v.dataset_id = d.id GROUP BY d.id ORDER BY d.name"
    )
    listed = []
    for row in rows:
        dv = resolve(store, f"{row['name']}@{row['latest']}")
        listed.append({
            "name": row["name"], "latest": row["latest"], "versions": row["versions"], "rows": dv.n_rows,
            "columns": dv.n_columns, "target": dv.target, "sha256": dv.sha256, "created_at": dv.created_at,
        })
    return listed


def list_versions(store: Store, name: str) -> list[DatasetVersion]:
    """Every version of one dataset, oldest first."""
    resolve(store, name)
    rows = store.rows(f"{_VERSION_SELECT} WHERE d.name = ? ORDER BY v.version", (name,))
    return [DatasetVersion(**dict(row)) for row in rows]


def columns(store: Store, dv: DatasetVersion) -> list[dict[str, Any]]:
    """Schema and profile of a version: name, dtype, role and profile (a dict) per column."""
    rows = store.rows(
        "SELECT name, dtype, role, profile FROM dataset_columns WHERE version_id = ? ORDER BY position", (dv.id,)
    )
    return [{"name": r["name"], "dtype": r["dtype"], "role": r["role"], "profile": json.loads(r["profile"])} for r in rows]


def load_frame(store: Store, dv: DatasetVersion, columns: list[str] | None = None) -> "pd.DataFrame":
    """The rows of a version as a DataFrame, with the dtypes they were imported with."""
    import pandas as pd

    schema = {r["name"]: r["dtype"] for r in store.rows(
        "SELECT name, dtype FROM dataset_columns WHERE version_id = ? ORDER BY position", (dv.id,))}
    wanted = list(schema) if columns is None else list(columns)
    unknown = [name for name in wanted if name not in schema]
    if unknown:
        raise PitboardError(f"{dv.ref}: no column {unknown[0]!r}; columns: {', '.join(schema)}")
    cursor = store.conn.cursor()
    cursor.row_factory = None
    rows = cursor.execute(f"SELECT {', '.join(map(quote, wanted))} FROM {quote(dv.table)} ORDER BY rowid").fetchall()
    values = list(zip(*rows)) if rows else [()] * len(wanted)
    return pd.DataFrame({name: _restore(column, schema[name]) for name, column in zip(wanted, values)})


def _restore(values: tuple[Any, ...], dtype: str) -> Any:
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


def read_page(store: Store, dv: DatasetVersion, offset: int, limit: int) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and `limit` rows from row `offset` (0-based), as stored, for paging."""
    names = [r["name"] for r in store.rows(
        "SELECT name FROM dataset_columns WHERE version_id = ? ORDER BY position", (dv.id,))]
    cursor = store.conn.cursor()
    cursor.row_factory = None
    rows = cursor.execute(
        f"SELECT * FROM {quote(dv.table)} WHERE rowid > ? ORDER BY rowid LIMIT ?", (max(0, offset), max(0, limit))
    ).fetchall()
    return names, rows
