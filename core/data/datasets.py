"""Datasets: CSV/Parquet imports stored as content-hashed, immutable versions.

A version is identified by the SHA-256 of its canonical content (`core.data.content_hash`) and
the columns declared as target, time and id. Adding the same content again returns the
existing version and writes nothing; anything else becomes version N+1. The target, time
and id columns default to those of the dataset's latest version when the new data has
them, so `pitboard data add credit next_month.csv` keeps `--target default`.

A version's rows are stored column by column in chunks of `core.data.chunks.ROWS_PER_CHUNK`
rows, one `dataset_chunks` row (an Arrow IPC blob) per chunk: a million rows are 31
blob INSERTs instead of a million row INSERTs. Paging decodes only the chunks that hold
the page and gives the values the former per-version SQLite tables gave (`read_page`);
`load_frame` decodes whole columns back into the imported dtypes. The hash, the chunk
encoding and the profiles run in parallel threads. The chunks, the version row, the schema
and profile rows and the audit row are written in one transaction: an import that fails
leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.data.chunks import (
    Chunk,
    chunk_count,
    compact_column,
    compact_table,
    decode,
    encode_chunk,
    insert_chunk,
    pandas_column,
    python_rows,
    stored_table,
)
from core.store.database import Store
from core.store.errors import NotFound, PitboardError
from core.store.refs import parse_ref, validate_name

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from core.data.profiling import ColumnProfile

IMPORT_THREADS = min(4, max(2, os.cpu_count() or 1))  # columns and chunks are many small tasks each


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
    """Read a CSV or Parquet file with every bad-input check (see `core.data.tabular`)."""
    from core.data.tabular import read_tabular as read

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
    from core.data.tabular import normalize_frame

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
    roles = _declared_columns(store, name, frame, source, target=target, time_column=time_column, id_column=id_column)
    pool = ThreadPoolExecutor(max_workers=IMPORT_THREADS, thread_name_prefix="data-add")
    try:
        table, sha256 = _compact_and_hash(pool, frame)
        existing = _same_version(store, name, sha256, *roles)
        if existing is not None:
            return existing, False
        work = _start_writing(pool, table, roles[0], roles[2])
        with store.transaction():
            existing = _same_version(store, name, sha256, *roles)
            if existing is not None:  # another process imported it while we were hashing
                return existing, False
            version_id = _write_version(store, name, table, source, sha256, roles, work)
    finally:
        pool.shutdown(cancel_futures=True)  # a version that exists needs none of the rest
    return version_by_id(store, version_id), True


def _write_version(
    store: Store,
    name: str,
    table: "pa.Table",
    source: str,
    sha256: str,
    roles: tuple[str | None, str | None, str | None],
    work: "_Writing",
) -> int:
    """Insert the version, its chunks, schema, profiles and audit row (inside a transaction)."""
    conn = store.conn
    now = store.clock()
    dataset_id = store.value("SELECT id FROM datasets WHERE name = ?", (name,))
    if dataset_id is None:
        dataset_id = conn.execute("INSERT INTO datasets (name, created_at) VALUES (?, ?)", (name, now)).lastrowid
    version = store.value("SELECT coalesce(max(version), 0) + 1 FROM dataset_versions WHERE dataset_id = ?", (dataset_id,))
    version_id = store.value("SELECT coalesce(max(id), 0) + 1 FROM dataset_versions")
    n_rows, n_columns = table.num_rows, table.num_columns
    conn.execute(
        "INSERT INTO dataset_versions (id, dataset_id, version, sha256, n_rows, n_columns, target, time_column,"
        " id_column, table_name, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (version_id, dataset_id, version, sha256, n_rows, n_columns, *roles, chunks_ref(version_id), source, now),
    )
    written = 0
    for future in work.chunks:  # each is written as soon as it is encoded, while profiles run
        chunk = future.result()
        insert_chunk(conn, version_id, chunk)
        written += chunk.data.size
    log_synced = store.start_log_sync(written)  # while the profiles finish (see Store.start_log_sync)
    profiles = [future.result() for future in work.profiles]
    conn.executemany(
        "INSERT INTO dataset_columns (version_id, position, name, dtype, role, profile) VALUES (?, ?, ?, ?, ?, ?)",
        [(version_id, i, p.name, p.dtype, p.role, json.dumps(p.profile, allow_nan=False)) for i, p in enumerate(profiles)],
    )
    store.audit(
        "data.add",
        f"{name}@{version}",
        {"sha256": sha256, "rows": n_rows, "columns": n_columns, "source": source, "target": roles[0]},
    )
    log_synced()
    return version_id


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


def _compact_and_hash(pool: ThreadPoolExecutor, frame: "pd.DataFrame") -> tuple["pa.Table", str]:
    """Every column in its compact stored form, and the version's content hash.

    Each column is compacted and hashed in its own task (`core.data.content_hash` hashes the
    compact form), so on two cores the columns take about half the time of one pass.
    Nothing else starts before the hash is known: content that is already stored needs no
    chunks and no profiles.
    """
    from core.data.content_hash import column_digest, combine

    def compact_and_digest(name: str) -> tuple["pa.Field", "pa.Array", bytes]:
        field, array = compact_column(name, frame[name])
        return field, array, column_digest(field, array)

    names = [str(name) for name in frame.columns]
    # Text columns take longest (dictionary encoding): started first, the threads end together.
    by_cost = sorted(names, key=lambda name: str(frame[name].dtype) != "str")
    done = dict(zip(by_cost, pool.map(compact_and_digest, by_cost)))
    columns = [done[name] for name in names]
    table = compact_table((field, array) for field, array, _ in columns)
    return table, combine(len(frame), frame.shape[1], (digest for _, _, digest in columns))


@dataclass(frozen=True)
class _Writing:
    """The rest of an import, running in a thread pool: chunk blobs, then profiles."""

    chunks: "list[Future[Chunk]]"
    profiles: "list[Future[ColumnProfile]]"


def _start_writing(pool: ThreadPoolExecutor, table: "pa.Table", target: str | None, id_column: str | None) -> _Writing:
    """Start encoding the chunks and profiling every column of a compacted table.

    Chunks go first so that the blobs can be written while the profiles are computed.
    Both spend most of their time in numpy and Arrow code that releases the GIL.
    """
    from core.data.profiling import profile_column

    chunks = [pool.submit(encode_chunk, table, index) for index in range(chunk_count(table.num_rows))]
    profiles = [pool.submit(profile_column, field, table.column(i).chunk(0), target=target, id_column=id_column)
                for i, field in enumerate(table.schema)]
    return _Writing(chunks, profiles)


def chunks_ref(version_id: int) -> str:
    """What `dataset_versions.table_name` holds since migration 0006: where the rows are."""
    return f"dataset_chunks:{version_id}"


# -- reading --------------------------------------------------------------------------------

_VERSION_SELECT = (
    "SELECT v.id, d.name AS dataset, v.version, v.sha256, v.n_rows, v.n_columns, v.target, v.time_column,"
    " v.id_column, v.source, v.created_at"
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

    names = _column_names(store, dv)
    wanted = names if columns is None else list(dict.fromkeys(columns))
    unknown = [name for name in wanted if name not in names]
    if unknown:
        raise PitboardError(f"{dv.ref}: no column {unknown[0]!r}; columns: {', '.join(names)}")
    table = stored_table(store.conn, dv.id, wanted)
    return pd.DataFrame({name: pandas_column(table.column(name), table.schema.field(name)) for name in wanted})


def stored_hash(store: Store, dv: DatasetVersion) -> str:
    """The content hash of the rows a version holds now, re-computed from its chunks.

    It equals `dv.sha256` unless the stored rows were altered after the import (the hash is
    of the compact columns the chunks store, see `core.data.content_hash`). Raises PitboardError
    naming the version when a chunk cannot be decoded at all.
    """
    import pyarrow as pa

    from core.data.content_hash import table_hash

    try:
        return table_hash(stored_table(store.conn, dv.id))
    except (pa.ArrowException, OSError) as exc:
        raise PitboardError(f"{dv.ref}: a stored chunk cannot be decoded ({str(exc).splitlines()[0][:120]})") from exc


def read_page(store: Store, dv: DatasetVersion, offset: int, limit: int) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and `limit` rows from row `offset` (0-based), for paging.

    Values are as the Data pane and `pitboard data head` have always shown them: None for
    missing, bools as 0/1, datetimes as ISO 8601 text (see `core.data.chunks.python_rows`).
    """
    offset = max(0, offset)
    end = offset + max(0, limit)
    rows: list[tuple[Any, ...]] = []
    for first_row, n_rows, data in store.conn.execute(
        "SELECT first_row, n_rows, data FROM dataset_chunks WHERE version_id = ? AND first_row < ?"
        " AND first_row + n_rows > ? ORDER BY chunk_index",
        (dv.id, end, offset),
    ):
        start = max(0, offset - first_row)
        rows.extend(python_rows(decode(data).slice(start, min(n_rows, end - first_row) - start)))
    return _column_names(store, dv), rows


def _column_names(store: Store, dv: DatasetVersion) -> list[str]:
    return [r["name"] for r in store.rows(
        "SELECT name FROM dataset_columns WHERE version_id = ? ORDER BY position", (dv.id,))]
