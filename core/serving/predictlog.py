"""The prediction log: every served prediction, written in batches by one thread.

Why batches: one SQLite transaction per request would cap the service at the disk's
commit rate and make the request wait for it. Requests instead append their rows to
memory and return; a writer thread commits everything pending every `interval` seconds,
or sooner once `max_rows` are waiting. Durability, stated plainly:

- graceful shutdown (SIGTERM, Ctrl-C): `close()` flushes everything, nothing is lost;
- a crash (SIGKILL, power loss): at most the rows answered in the last `interval`
  seconds (plus a flush in progress) are lost. Each flush is one transaction, so the log
  never holds half a batch.

Failed prediction requests travel the same way (`add_error`): a flush writes them as one
`request_errors` row in its transaction (see `core.serving.service_errors`).

Layout (why not one row per prediction): monitoring reads a million logged predictions
column by column, so each flush is stored as ONE row whose `data` is an Arrow IPC stream
holding one column per feature, output and meta field (see migration 0004). Reading is
a concatenation of Arrow buffers, not a million JSON parses. Prediction ids are
`<deployment>-<seq>` with seqs assigned in arrival order, so a flush covers a contiguous
seq range and a feedback label finds its row with a range lookup on (deployment, seq).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.serving.service_errors import INSERT_SQL as INSERT_ERRORS
from core.serving.service_errors import flush_row as error_row
from core.store.database import Store
from core.store.errors import PitboardError

FEATURE, OUTPUT, META = "feature.", "output.", "meta."
MAX_FINAL_ATTEMPTS = 5  # retries of the last flush at shutdown before reporting the loss


@dataclass
class Pending:
    version_id: int
    first_seq: int
    n_rows: int
    columns: dict[str, Any]


class PredictionLog:
    """Collects predictions and feedback in memory; one thread writes them in batches."""

    def __init__(self, db_path: Path | None, deployment_id: int, *, interval: float = 0.5, max_rows: int = 5000) -> None:
        """`db_path` None: a subclass writes the flushes elsewhere (`core.serving.segments`)."""
        self.deployment_id = deployment_id
        self.interval = interval
        self.max_rows = max_rows
        self._store = None if db_path is None else Store.open(db_path)
        self._lock = threading.Condition()
        self._pending: list[Pending] = []
        self._pending_rows = 0
        self._feedback: list[tuple[int, int, Any, float]] = []
        self._errors: list[tuple[int, int, float, int]] = []  # (version id, status, ts, seq)
        self._next_seq = 1  # each `serve` process has its own deployment id
        self._failures = 0
        self._stopping = False
        self.written_rows = 0
        # Arrow's first conversion imports and initialises modules for a fraction of a second,
        # holding the GIL: done now, not by the first flush, which would stall every request
        # the service is answering at that moment.
        encode({META + "ts": np.zeros(1)})
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    @property
    def next_seq(self) -> int:
        """The seq the next prediction will get (all smaller ones were handed out)."""
        return self._next_seq

    def append(self, version_id: int, columns: Mapping[str, Any], n_rows: int) -> int:
        """Queue `n_rows` predictions (columns named feature./output./meta.); returns the first seq."""
        with self._lock:
            if self._stopping:
                raise PitboardError("prediction log: the service is shutting down")
            first = self._next_seq
            self._next_seq += n_rows
            self._pending.append(Pending(version_id, first, n_rows, dict(columns)))
            self._pending_rows += n_rows
            if self._pending_rows >= self.max_rows:
                self._lock.notify()
        return first

    def add_feedback(self, labels: Sequence[tuple[int, int, Any]], ts: float) -> None:
        """Queue true labels as (deployment id, seq, label)."""
        with self._lock:
            self._feedback.extend((d, s, label, ts) for d, s, label in labels)

    def add_error(self, version_id: int, status: int, ts: float) -> None:
        """Queue a failed prediction request, placed before the next prediction's seq.

        Dropped once the log is shutting down: its last flush may already be written.
        """
        with self._lock:
            if not self._stopping:
                self._errors.append((version_id, status, ts, self._next_seq))

    def close(self) -> None:
        """Write everything still pending and stop the thread (graceful shutdown)."""
        with self._lock:
            self._stopping = True
            self._lock.notify()
        self._thread.join()
        if self._store is not None:
            self._store.close()

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._stopping and self._pending_rows < self.max_rows:
                    self._lock.wait(self.interval)
                batch, feedback, errors = self._pending, self._feedback, self._errors
                self._pending, self._feedback, self._errors, self._pending_rows = [], [], [], 0
                stopping = self._stopping
            if batch or feedback or errors:
                self._write_or_requeue(batch, feedback, errors)
            if stopping:
                with self._lock:
                    if not self._pending and not self._feedback and not self._errors:
                        return
                    if self._failures >= MAX_FINAL_ATTEMPTS:
                        print(f"prediction log: giving up, {self._pending_rows} rows not written", file=sys.stderr, flush=True)
                        return

    def _write_or_requeue(self, batch: list[Pending], feedback: list[tuple[int, int, Any, float]],
                          errors: list[tuple[int, int, float, int]]) -> None:
        try:
            self._write(batch, feedback, errors)
            self._failures = 0
        except Exception as exc:  # a locked or full disk must not kill the writer
            self._failures += 1
            print(f"prediction log: write failed, will retry: {exc}", file=sys.stderr, flush=True)
            with self._lock:
                self._pending[:0] = batch
                self._feedback[:0] = feedback
                self._errors[:0] = errors
                self._pending_rows += sum(p.n_rows for p in batch)
                self._lock.wait(self.interval)

    def _write(self, batch: list[Pending], feedback: list[tuple[int, int, Any, float]],
               errors: list[tuple[int, int, float, int]]) -> None:
        rows = [self._batch_row(group) for group in by_version(batch)]
        store = self._store
        assert store is not None
        with store.transaction():
            store.conn.executemany(
                "INSERT INTO prediction_batches (deployment_id, version_id, first_seq, n_rows, ts_min, ts_max, data)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            store.conn.executemany(
                "INSERT OR REPLACE INTO feedback (deployment_id, seq, label, ts) VALUES (?, ?, ?, ?)", feedback
            )
            if errors:
                store.conn.execute(INSERT_ERRORS, error_row(self.deployment_id, errors))
        self.written_rows += sum(row[3] for row in rows)

    def _batch_row(self, group: list[Pending]) -> tuple[Any, ...]:
        table = table_of(group)
        ts = np.asarray(table[META + "ts"], dtype=np.float64)
        return (
            self.deployment_id,
            group[0].version_id,
            group[0].first_seq,
            int(sum(p.n_rows for p in group)),
            float(ts.min()),
            float(ts.max()),
            encode(table),
        )


def table_of(group: list[Pending]) -> dict[str, np.ndarray]:
    """The columns of consecutive requests joined into one table's columns."""
    names = list(dict.fromkeys(name for p in group for name in p.columns))
    return {name: _concat([p.columns.get(name) for p in group], [p.n_rows for p in group]) for name in names}


def by_version(batch: list[Pending]) -> list[list[Pending]]:
    """Consecutive runs of the same model version (the alias can move mid-flush)."""
    groups: list[list[Pending]] = []
    for pending in batch:
        if groups and groups[-1][-1].version_id == pending.version_id:
            groups[-1].append(pending)
        else:
            groups.append([pending])
    return groups


def _concat(parts: list[Any], sizes: list[int]) -> np.ndarray:
    """Join per-request columns; a column absent from some requests is null there.

    A flush joins hundreds of requests, so the common cases take one numpy call each:
    arrays of one dtype kind are concatenated, per-request scalars (the meta fields) are
    repeated. Only a mix (absent columns, differing kinds) goes part by part, to objects.
    """
    if all(type(part) is np.ndarray for part in parts):
        if len({part.dtype.kind for part in parts}) == 1:
            return np.concatenate(parts)
    elif not any(part is None or isinstance(part, np.ndarray) for part in parts):
        return np.repeat(np.asarray(parts), sizes)
    arrays = []
    for part, size in zip(parts, sizes):
        if part is None:
            arrays.append(np.full(size, None, dtype=object))
        elif np.ndim(part) == 0:
            arrays.append(np.full(size, part))
        else:
            arrays.append(np.asarray(part))
    if len({a.dtype.kind for a in arrays}) > 1:
        arrays = [a.astype(object) for a in arrays]
    return np.concatenate(arrays)


def encode(columns: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None) -> bytes:
    """Columns as one Arrow IPC stream (object columns become strings or nulls), with schema `metadata`."""
    import pyarrow as pa

    arrays = {}
    for name, values in columns.items():
        if values.dtype == object:
            arrays[name] = pa.array([None if v is None else str(v) for v in values], type=pa.string())
        else:
            arrays[name] = pa.array(values)
    table = pa.table(arrays, metadata=dict(metadata) if metadata else None)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def read_log(
    store: Store,
    *,
    version_id: int | None = None,
    deployment_id: int | None = None,
    since: float | None = None,
    until: float | None = None,
    columns: Sequence[str] | None = None,
) -> Any:
    """Logged predictions as one pyarrow Table, with `meta.deployment` and `meta.seq` added.

    Filters select whole flushes (by deployment, version, and flush time range); `columns`
    limits what is decoded. `table.column(name).to_numpy()` gives per-feature arrays.
    """
    import pyarrow as pa

    clauses, params = ["1 = 1"], []
    for clause, value in (
        ("version_id = ?", version_id), ("deployment_id = ?", deployment_id), ("ts_max >= ?", since), ("ts_min < ?", until)
    ):
        if value is not None:
            clauses.append(clause)
            params.append(value)
    tables = []
    for row in store.conn.execute(
        f"SELECT deployment_id, first_seq, n_rows, data FROM prediction_batches WHERE {' AND '.join(clauses)} ORDER BY id",
        params,
    ):
        table = pa.ipc.open_stream(row[3]).read_all()
        if columns is not None:
            table = table.select([c for c in columns if c in table.column_names])
        table = table.append_column(META + "deployment", pa.array(np.full(row[2], row[0], dtype=np.int64)))
        table = table.append_column(META + "seq", pa.array(np.arange(row[1], row[1] + row[2], dtype=np.int64)))
        tables.append(table)
    if not tables:
        return pa.table({})
    return pa.concat_tables(tables, promote_options="permissive")


def parse_prediction_id(text: Any) -> tuple[int, int] | None:
    """`"12-345"` -> (deployment 12, seq 345); None when it is not a prediction id."""
    if not isinstance(text, str):
        return None
    deployment, sep, seq = text.partition("-")
    # isascii too: str.isdigit() also accepts '²' (which int() refuses) and other scripts' digits
    if not sep or not all(part.isascii() and part.isdigit() for part in (deployment, seq)):
        return None
    return int(deployment), int(seq)
