"""Ingest: production traffic into windows, exactly once.

Three sources:

- **The prediction log** of each deployment (`ingest_log`). A cursor per deployment
  (`monitor_cursors`) says how far the log was reduced. Time windows close
  `grace_seconds` after their end; rows of closed windows are reduced, the rest wait for
  the next ingest. The cursor is moved with a compare-and-swap in the same transaction
  that writes the windows: a second ingest process that read the same rows finds the
  cursor moved, writes nothing, and starts over from the new position, so no row is ever
  counted twice. A row flushed after its window closed (the writer stalled longer than
  the grace period) is counted in `late_rows`, not added to a closed window. Failed
  requests (`request_errors`, see `core.serving.service_errors`) are counted with the rows of the
  same version and window: by time up to `done_until`, or by seq up to `error_seq` for
  row windows, moved in the same compare-and-swap; a window whose requests all failed
  is written with no rows, and failures flushed after their window closed are counted in
  `late_errors`.
- **Feedback labels** (`apply_feedback`). Log windows keep their rows' outputs, so labels
  arriving later through `/feedback` are scored without the raw log; a window's metrics
  are recomputed from all its labels whenever the set of labels in its range changed,
  which is idempotent under concurrent ingests.
- **Batch files** (`ingest_files`). A file is recorded by SHA-256 in the transaction
  that writes its windows; the same file is never ingested twice, by two processes
  either. With `cluster`, files are read and reduced on Dask workers and the parts of a
  window found in several files are merged (`core.monitoring.windows.merge`).

Clock skew: a logged prediction stamped later than the ingesting clock waits for its
window to close like any other row (so a window holds exactly the rows stamped in it,
whichever host's clock was wrong); the ingest report counts such rows as `future_rows`
so the skew is visible. A batch file's rows stamped in the future are placed in the
window of the ingest time, counted in that window's `future_rows`. The service killed
mid-batch loses at most the rows of one prediction-log flush interval (see
`core.serving.predictlog`); everything flushed is reduced.
"""

from __future__ import annotations

import glob
import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from core.monitoring.alerts import rules_for
from core.monitoring.references import Reference, encode_discrete, ensure_reference, ensure_segments, scores_of
from core.monitoring.settings import TIME_WINDOW_SECONDS, monitoring_settings
from core.monitoring.status import write_window
from core.monitoring.windows import MISSING_CODE, Traffic, WindowStats, bucket, merge, no_rows, reduce, split
from core.store.database import Store
from core.store.errors import PitboardError

FEATURE, OUTPUT, META = "feature.", "output.", "meta."
ALL_SEQS = 2**62  # no upper bound: every error of an ended deployment


@dataclass
class IngestReport:
    """What one ingest did, for the CLI and the audit log."""

    source: str
    rows: int = 0
    windows: list[int] = field(default_factory=list)
    alerts: list[int] = field(default_factory=list)  # raised by its windows: opened, or joined (core.monitoring.alerts)
    late_rows: int = 0
    future_rows: int = 0
    waiting_rows: int = 0
    waiting_for: str = ""  # what the waiting rows wait for, in words
    errors: int = 0  # failed requests counted into windows
    late_errors: int = 0  # failed requests flushed after their window closed
    relabelled: list[int] = field(default_factory=list)
    skipped: str = ""
    notes: list[str] = field(default_factory=list)  # how the windows were formed, when not as configured
    seconds: dict[str, float] = field(default_factory=lambda: {"read": 0.0, "reduce": 0.0, "write": 0.0})

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def raised(self, alert_ids: list[int]) -> None:
        """Note alerts a window raised; an alert that several windows joined is listed once."""
        self.alerts += [alert_id for alert_id in alert_ids if alert_id not in self.alerts]


# -- encoding traffic -------------------------------------------------------------------------


def encode_columns(reference: Reference, columns: dict[str, Any]) -> dict[str, np.ndarray]:
    """pyarrow columns by feature name -> numeric float64 (NaN missing) or int64 codes.

    Categorical values are coded exactly as the reference was (`encode_categories`);
    discrete numerics by their value (-1 missing, len(values) for a value never seen).
    """
    import pyarrow as pa

    from core.data.drift import encode_categories

    encoded = {}
    for ref in reference.features:
        column = columns[ref.name]
        if ref.kind == "categorical":
            encoded[ref.name] = encode_categories(column.to_pandas(), ref.categories)
            continue
        if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or pa.types.is_boolean(column.type)
                or pa.types.is_null(column.type)):
            raise PitboardError(f"feature {ref.name!r}: expected numbers, got {column.type}")
        numbers = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
        if ref.kind == "numeric":
            encoded[ref.name] = numbers
            continue
        encoded[ref.name] = encode_discrete(ref.values, numbers)
    return encoded


def encode_labels(reference: Reference, values: np.ndarray, source: str) -> np.ndarray:
    """True labels -> class indices (-1 = none yet) or float values (NaN = none yet)."""
    if reference.task != "classification":
        try:
            return np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise PitboardError(f"{source}: labels must be numbers for a regression model ({exc})") from exc
    index = {str(c): i for i, c in enumerate(reference.classes)}
    codes = np.full(len(values), MISSING_CODE, dtype=np.int64)
    for i, value in enumerate(values):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        key = str(int(value)) if isinstance(value, (float, np.floating)) and float(value).is_integer() else str(value)
        if key not in index:
            raise PitboardError(f"{source}: label {value!r} is not one of the model's classes {reference.classes}")
        codes[i] = index[key]
    return codes


# -- the prediction log ---------------------------------------------------------------------


def ingest_log(store: Store, model: str | None = None) -> list[IngestReport]:
    """Reduce the new prediction-log rows of every deployment (of `model`), then labels."""
    query = "SELECT d.id FROM deployments d JOIN models m ON m.id = d.model_id"
    params: tuple[Any, ...] = ()
    if model is not None:
        from core.monitoring.alerts import rules_for
        from core.registry.versions import model_id

        model_id(store, model)
        monitoring_settings(store, model)  # a broken section fails now, even with nothing to ingest
        rules_for(store, model)
        query += " WHERE m.name = ?"
        params = (model,)
    reports = [ingest_deployment(store, row["id"]) for row in store.rows(query + " ORDER BY d.id", params)]
    labels = apply_feedback(store, model)
    if labels.relabelled:
        reports.append(labels)
    return reports


def ingest_deployment(store: Store, deployment_id: int, *, attempts: int = 3) -> IngestReport:
    """Reduce one deployment's closed windows; retried when another ingest moved the cursor."""
    for _ in range(attempts):
        report = _ingest_deployment_once(store, deployment_id)
        if report is not None:
            return report
    raise PitboardError(f"deployment {deployment_id}: other ingests kept moving the cursor; try again")


def _cursor(store: Store, deployment_id: int) -> dict[str, Any]:
    row = store.row("SELECT * FROM monitor_cursors WHERE deployment_id = ?", (deployment_id,))
    if row is None:
        return {"next_seq": 1, "seen_seq": 1, "done_until": float("-inf"), "late_rows": 0, "position": 0, "error_seq": 1,
                "error_id_seen": 0, "late_errors": 0}
    return dict(row)


@dataclass
class _Plan:
    """Which rows of the log read this time are reduced now, wait, or came too late."""

    take: np.ndarray
    waiting: np.ndarray
    late: np.ndarray
    next_seq: int
    written_to: int
    done_until: float


def _plan(kind: str, settings: dict[str, Any], cursor: dict[str, Any], ended: bool, seqs: np.ndarray, ts: np.ndarray,
          now: float) -> _Plan:
    """Time windows take the rows of closed buckets; row windows the rows of full blocks."""
    if not len(seqs):  # nothing new in the log: only the time frontier can move
        none = np.zeros(0, dtype=bool)
        done_until = cursor["done_until"]
        if kind in TIME_WINDOW_SECONDS:
            done_until = max(done_until, float(bucket(kind, np.array([now - settings["grace_seconds"]]))[0]))
        return _Plan(none, none, none, cursor["next_seq"], cursor["seen_seq"], done_until)
    written_to = int(seqs.max()) + 1  # from what was read: flushes landing meanwhile wait for the next ingest
    fresh = seqs >= cursor["next_seq"]
    if kind in TIME_WINDOW_SECONDS:
        frontier = float(bucket(kind, np.array([now - settings["grace_seconds"]]))[0])
        consumed_before = (seqs < cursor["seen_seq"]) & (ts < cursor["done_until"])
        late = fresh & (seqs >= cursor["seen_seq"]) & (ts < cursor["done_until"])
        take = fresh & ~consumed_before & ~late & (ts < frontier)
        waiting = fresh & ~consumed_before & ~late & ~take
        done_until = max(cursor["done_until"], frontier)
    else:
        rows = settings["window_rows"]
        complete_until = written_to if ended else ((written_to - 1) // rows) * rows + 1  # first seq of an open block
        late = np.zeros(len(seqs), dtype=bool)
        take = fresh & (seqs < complete_until)
        waiting = fresh & ~take
        done_until = cursor["done_until"]
    next_seq = int(seqs[waiting].min()) if waiting.any() else written_to
    return _Plan(take, waiting, late, next_seq, written_to, done_until)


def _waiting_for(kind: str, settings: dict[str, Any], ts: np.ndarray, n_waiting: int) -> str:
    """What rows that are not in a window yet wait for, and how to judge by volume instead."""
    from core.store.clock import iso

    if kind in TIME_WINDOW_SECONDS:
        closes = float(bucket(kind, np.array([ts.min()]))[0]) + TIME_WINDOW_SECONDS[kind] + settings["grace_seconds"]
        return (f"their {kind} window, which closes at {iso(closes)} UTC; with little traffic, "
                f"[monitoring] window = \"rows\" makes windows by volume instead")
    return f"a full window of {settings['window_rows']} rows ({n_waiting} so far)"


def _ingest_deployment_once(store: Store, deployment_id: int) -> IngestReport | None:
    from core.registry.versions import version_by_id

    dep = store.row(
        "SELECT d.*, m.name FROM deployments d JOIN models m ON m.id = d.model_id WHERE d.id = ?", (deployment_id,))
    report = IngestReport(f"deployment {deployment_id}")
    settings = monitoring_settings(store, dep["name"])
    kind = settings["window"]
    cursor = _cursor(store, deployment_id)
    clock = time.perf_counter()
    table = _read_log(store, deployment_id, cursor["next_seq"])
    now = store.clock()
    seqs, ts, versions, first_of_request = _log_columns(table)
    plan = _plan(kind, settings, cursor, dep["ended_at"] is not None, seqs, ts, now)
    errors = _new_errors(store, deployment_id, kind, cursor, plan, ended=dep["ended_at"] is not None)
    if table is None and not len(errors.counted) and not errors.late:
        return report
    report.late_rows, report.waiting_rows = int(plan.late.sum()), int(plan.waiting.sum())
    if report.waiting_rows:
        report.waiting_for = _waiting_for(kind, settings, ts[plan.waiting], report.waiting_rows)
    report.late_errors = errors.late
    report.future_rows = int((plan.waiting & (ts > now)).sum())
    prepared: list[tuple[Any, Reference, WindowStats, Traffic | None]] = []
    for version_id in np.unique(versions[plan.take]):
        positions = np.flatnonzero(plan.take & (versions == version_id))
        version = version_by_id(store, int(version_id))
        reference = ensure_reference(store, version)
        segments = ensure_segments(store, version, reference, settings)
        traffic = _log_traffic(reference, table.take(positions), ts[positions], seqs[positions])
        report.seconds["read"] += time.perf_counter() - clock
        clock = time.perf_counter()
        for key, start, end, rows_in in split(traffic, kind, settings["window_rows"]):
            part = traffic.take(rows_in)
            stats = reduce(reference, part, kind=kind, key=key, start=start, end=end, min_effect=settings["min_effect"],
                           segments=segments)
            stats.n_requests = int(first_of_request[positions][rows_in].sum())
            prepared.append((version, reference, stats, part))
        report.seconds["reduce"] += time.perf_counter() - clock
        clock = time.perf_counter()
    prepared += _count_errors(store, prepared, errors.counted, kind, settings["window_rows"])
    report.errors = len(errors.counted)
    report.seconds["read"] += time.perf_counter() - clock
    clock = time.perf_counter()
    with store.transaction():
        if _cursor(store, deployment_id)["position"] != cursor["position"]:
            return None  # another ingest moved the cursor while we reduced: start over
        for version, reference, stats, part in sorted(prepared, key=lambda p: (p[2].key, p[0].id)):
            window_id, raised = write_window(
                store, model_id=dep["model_id"], model=dep["name"], version_id=version.id,
                stream=f"deployment {deployment_id}", deployment_id=deployment_id, stats=stats, reference=reference,
                outputs=None if part is None else (part.seqs, part.scores, part.codes),
            )
            report.windows.append(window_id)
            report.raised(raised)
            report.rows += stats.n_rows
        store.conn.execute(
            """INSERT INTO monitor_cursors (deployment_id, next_seq, seen_seq, done_until, late_rows, position, updated_at,
                                            error_seq, error_id_seen, late_errors)
               VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)
               ON CONFLICT (deployment_id) DO UPDATE SET next_seq = excluded.next_seq, seen_seq = excluded.seen_seq,
                 done_until = excluded.done_until, late_rows = late_rows + excluded.late_rows,
                 position = position + 1, updated_at = excluded.updated_at, error_seq = excluded.error_seq,
                 error_id_seen = excluded.error_id_seen, late_errors = late_errors + excluded.late_errors""",
            (deployment_id, plan.next_seq, plan.written_to, plan.done_until, report.late_rows, now, errors.error_seq,
             errors.newest_id, report.late_errors),
        )
        if report.windows or report.late_rows or report.late_errors:
            store.audit("monitor.ingest", f"deployment {deployment_id}", {
                "rows": report.rows, "windows": report.windows, "alerts": report.alerts, "late_rows": report.late_rows,
                "future_rows": report.future_rows, "errors": report.errors, "late_errors": report.late_errors})
    report.seconds["write"] = time.perf_counter() - clock
    return report


def _log_columns(table: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(seqs, times, version ids, whether the row is its request's first) of the rows read.

    A request's rows are appended together, so they sit in one flush, which is read whole:
    the first row of each request number is its lowest seq. A request cut by the boundary
    of a row-count window is counted once, in the window of its first row.
    """
    if table is None:
        return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    requests = table.column(META + "request").to_numpy(zero_copy_only=False)
    first = np.zeros(len(requests), dtype=bool)
    first[np.unique(requests, return_index=True)[1]] = True
    return (table.column(META + "seq").to_numpy(),
            table.column(META + "ts").to_numpy(zero_copy_only=False).astype(np.float64),
            table.column(META + "version").to_numpy(), first)


@dataclass(frozen=True)
class _Errors:
    """The failed requests an ingest counts into windows, those that came too late, and
    where the cursor moves."""

    counted: np.ndarray
    late: int
    error_seq: int
    newest_id: int  # the last request_errors row this ingest looked at


def _new_errors(store: Store, deployment_id: int, kind: str, cursor: dict[str, Any], plan: _Plan, *,
                ended: bool) -> _Errors:
    """The failed requests this ingest counts, the late ones, and the cursor's new marks.

    Time windows count the errors stamped in the buckets that close now, [done_until before,
    done_until after). Row windows count the errors placed before the first seq still waiting
    (all of them once the deployment ended), from `error_seq` on. A flush written since the
    last ingest (`request_errors.id` above `error_id_seen`) whose errors belong before that
    range was too late for their windows: they are counted as late, as late rows are. Rows
    written after this ingest's first read wait for the next one.
    """
    from core.serving.service_errors import ERROR_DTYPE, decode

    if kind in TIME_WINDOW_SECONDS:
        low, high, column = cursor["done_until"], plan.done_until, "ts"
    else:
        low, high, column = cursor["error_seq"], (ALL_SEQS if ended else plan.next_seq), "seq"
    seen = cursor["error_id_seen"]
    newest = store.value("SELECT COALESCE(MAX(id), 0) FROM request_errors WHERE deployment_id = ?", (deployment_id,))
    rows = store.rows(
        f"SELECT id, data FROM request_errors WHERE deployment_id = ? AND id <= ?"
        f" AND (({column}_max >= ? AND {column}_min < ?) OR (id > ? AND {column}_min < ?)) ORDER BY id",
        (deployment_id, newest, low, high, seen, low))
    found = [decode(row["data"]) for row in rows]
    errors = np.concatenate(found) if found else np.zeros(0, dtype=ERROR_DTYPE)
    written_since = np.repeat([row["id"] > seen for row in rows], [len(part) for part in found]).astype(bool)
    late = int((written_since & (errors[column] < low)).sum())
    errors = errors[(errors[column] >= low) & (errors[column] < high)]
    error_seq = cursor["error_seq"]
    if kind not in TIME_WINDOW_SECONDS:
        error_seq = int(high) if high != ALL_SEQS else (int(errors["seq"].max()) + 1 if len(errors) else int(low))
    return _Errors(errors, late, error_seq, max(seen, int(newest)))


def _count_errors(store: Store, prepared: list[tuple[Any, Reference, WindowStats, Traffic | None]], errors: np.ndarray,
                  kind: str, window_rows: int) -> list[tuple[Any, Reference, WindowStats, None]]:
    """Add failed requests to the windows of their version and time (or seq block).

    Errors falling where no row was answered form windows of their own (`no_rows`);
    those are returned, to be written with the others.
    """
    from core.registry.versions import version_by_id

    if not len(errors):
        return []
    windows = {(version.id, stats.key): stats for version, _, stats, _ in prepared}
    keys = bucket(kind, errors["ts"]).astype(np.int64) if kind in TIME_WINDOW_SECONDS else (errors["seq"] - 1) // window_rows
    created = []
    for version_id, key in sorted({(int(v), int(k)) for v, k in zip(errors["version"], keys)}):
        mine = errors[(errors["version"] == version_id) & (keys == key)]
        stats = windows.get((version_id, key))
        if stats is None:
            version = version_by_id(store, version_id)
            reference = ensure_reference(store, version)
            if kind in TIME_WINDOW_SECONDS:
                start, end = float(key), float(key) + TIME_WINDOW_SECONDS[kind]
            else:
                start, end = float(mine["ts"].min()), float(mine["ts"].max())
            stats = no_rows(reference, kind=kind, key=key, start=start, end=end)
            created.append((version, reference, stats, None))
        stats.n_errors += len(mine)
        stats.n_server_errors += int((mine["status"] >= 500).sum())
    return created


def _read_log(store: Store, deployment_id: int, from_seq: int) -> Any:
    """The flushes holding seqs >= from_seq, as one Arrow table with seq and version columns."""
    import pyarrow as pa

    first = store.value(
        "SELECT MAX(first_seq) FROM prediction_batches WHERE deployment_id = ? AND first_seq <= ?", (deployment_id, from_seq))
    tables = []
    for row in store.conn.execute(
        "SELECT version_id, first_seq, n_rows, data FROM prediction_batches WHERE deployment_id = ? AND first_seq >= ?"
        " ORDER BY first_seq",
        (deployment_id, first if first is not None else from_seq),
    ):
        table = pa.ipc.open_stream(row[3]).read_all()
        table = table.append_column(META + "seq", pa.array(np.arange(row[1], row[1] + row[2], dtype=np.int64)))
        table = table.append_column(META + "version", pa.array(np.full(row[2], row[0], dtype=np.int64)))
        tables.append(table)
    if not tables:
        return None
    return pa.concat_tables(tables, promote_options="permissive")


def _log_traffic(reference: Reference, table: Any, ts: np.ndarray, seqs: np.ndarray) -> Traffic:
    columns = {}
    for ref in reference.features:
        name = FEATURE + ref.name
        if name not in table.column_names:
            raise PitboardError(f"prediction log: feature {ref.name!r} of version id {reference.version_id} was not logged")
        columns[ref.name] = table.column(name)
    outputs = {name[len(OUTPUT):]: table.column(name).to_numpy(zero_copy_only=False)
               for name in table.column_names if name.startswith(OUTPUT)}
    scores, codes = scores_of(outputs, reference.task, reference.classes)
    return Traffic(
        ts=ts, features=encode_columns(reference, columns), scores=scores, codes=codes,
        latency=table.column(META + "latency_ms").to_numpy(zero_copy_only=False).astype(np.float64),
        requests=table.column(META + "request").to_numpy(zero_copy_only=False), seqs=seqs,
    )


# -- feedback labels ------------------------------------------------------------------------


def apply_feedback(store: Store, model: str | None = None) -> IngestReport:
    """Score the labels that arrived for log windows still taking labels.

    The report lists the windows whose metrics changed and the (performance) alerts they
    raised; its `rows` counts no traffic, labels are not rows.
    """
    from core.monitoring.status import evaluate_window
    from core.registry.versions import version_by_id

    now = store.clock()
    report = IngestReport("feedback")
    query = """SELECT w.id, w.model_id, w.version_id, w.deployment_id, w.seq_lo, w.seq_hi, w.end, m.name,
                      o.feedback_mark
               FROM monitor_windows w JOIN monitor_window_outputs o ON o.window_id = w.id
               JOIN models m ON m.id = w.model_id"""
    params: tuple[Any, ...] = ()
    if model is not None:
        query += " WHERE m.name = ?"
        params = (model,)
    references: dict[int, Reference] = {}
    for window in store.rows(query, params):
        settings = monitoring_settings(store, window["name"])
        if window["end"] < now - settings["label_days"] * 86400.0:
            continue
        mark = store.value(
            "SELECT COALESCE(SUM(rowid), 0) FROM feedback WHERE deployment_id = ? AND seq BETWEEN ? AND ?",
            (window["deployment_id"], window["seq_lo"], window["seq_hi"]),
        )
        if mark == window["feedback_mark"]:
            continue
        if window["version_id"] not in references:
            references[window["version_id"]] = ensure_reference(store, version_by_id(store, window["version_id"]))
        reference = references[window["version_id"]]
        with store.transaction():
            n_labelled, metrics = _window_labels(store, window, reference)
            store.conn.execute(
                "UPDATE monitor_windows SET n_labelled = ?, metrics = ?, updated_at = ? WHERE id = ?",
                (n_labelled, json.dumps(metrics), now, window["id"]),
            )
            store.conn.execute("UPDATE monitor_window_outputs SET feedback_mark = ? WHERE window_id = ?", (mark, window["id"]))
            report.raised(evaluate_window(store, window["model_id"], window["name"], window["id"], reference))
        report.relabelled.append(window["id"])
    return report


def _window_labels(store: Store, window: Any, reference: Reference) -> tuple[int, dict[str, float]]:
    from core.monitoring.windows import label_metrics

    out = store.row("SELECT * FROM monitor_window_outputs WHERE window_id = ?", (window["id"],))
    seqs = np.frombuffer(out["seqs"], dtype=np.int64)
    scores = np.frombuffer(out["scores"], dtype=np.float64)
    codes = None if out["codes"] is None else np.frombuffer(out["codes"], dtype=np.int64)
    rows = store.rows(
        "SELECT seq, label FROM feedback WHERE deployment_id = ? AND seq BETWEEN ? AND ?",
        (window["deployment_id"], window["seq_lo"], window["seq_hi"]),
    )
    position = {int(s): i for i, s in enumerate(seqs)}
    mine = [(position[r["seq"]], r["label"]) for r in rows if r["seq"] in position]
    if not mine:
        return 0, {}
    values = np.empty(len(seqs), dtype=object)
    values[:] = None
    for i, label in mine:
        values[i] = label
    labels = encode_labels(reference, values, f"feedback for deployment {window['deployment_id']}")
    return label_metrics(reference, labels, scores, codes)


# -- batch files ----------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (what makes two ingests the same batch)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def expand_paths(patterns: Sequence[str]) -> list[Path]:
    """Files named or matched by glob patterns, each once, in order; nothing matched is an error."""
    found: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            raise PitboardError(f"{pattern}: no file matches")
        for match in matches:
            path = Path(match)
            if not path.is_file():
                raise PitboardError(f"{path}: no such file")
            if path not in found:
                found.append(path)
    return found


@dataclass
class _FileJob:
    """What a worker needs to reduce one file: picklable, no database."""

    path: str
    model_bytes: bytes
    info: dict[str, Any]
    reference: Reference
    kind: str
    window_rows: int
    labels: str | None
    time_column: str | None
    now: float
    min_effect: float
    segments: list[Any]


def reduce_file(job: _FileJob) -> tuple[int, list[WindowStats], list[np.ndarray]]:
    """Read, check, score and reduce one batch file (runs locally or on a Dask worker):
    (rows, each window's statistics, each window's row positions in the file)."""
    import pyarrow as pa

    from core.data.tabular import read_tabular
    from core.experiments.modelio import load_model
    from core.serving.predict import Scorer, frame_columns

    frame = read_tabular(job.path)
    source = job.path
    names = [f["name"] for f in job.info["signature"]]
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise PitboardError(f"{source}: missing feature columns {', '.join(missing)} (the model's signature needs them)")
    for option, column in (("--labels", job.labels), ("--time-column", job.time_column)):
        if column and column not in frame.columns:
            raise PitboardError(f"{source}: {option} {column!r} is not a column; columns: {', '.join(map(str, frame.columns))}")
    scorer = Scorer.build(load_model(job.model_bytes), job.info)
    checked = scorer.check(frame_columns(frame[names]))
    scores, codes = scores_of(scorer.score(checked), job.info["task"], scorer.classes)
    ts = np.full(len(frame), job.now)
    if job.time_column:
        ts = _times(frame[job.time_column], f"{source}: --time-column {job.time_column}")
    future = ts > job.now
    ts = np.where(future, job.now, ts)
    table = pa.Table.from_pandas(frame[names], preserve_index=False)
    traffic = Traffic(
        ts=ts, features=encode_columns(job.reference, {n: table.column(n) for n in names}), scores=scores, codes=codes,
        labels=None if not job.labels else encode_labels(job.reference, frame[job.labels].to_numpy(dtype=object),
                                                          f"{source}: --labels {job.labels}"),
    )
    windows = split(traffic, job.kind, even_block(len(frame), job.window_rows))
    return len(frame), [
        reduce(job.reference, traffic.take(rows), kind=job.kind, key=key, start=start, end=end,
               future_rows=int(future[rows].sum()), min_effect=job.min_effect, segments=job.segments)
        for key, start, end, rows in windows
    ], [rows for *_, rows in windows]


def _times(series: Any, where: str) -> np.ndarray:
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = series.dt.tz_localize(None) if getattr(series.dt, "tz", None) is not None else series
        seconds = values.to_numpy(dtype="datetime64[ns]").astype("int64") / 1e9
    elif pd.api.types.is_numeric_dtype(series.dtype):
        seconds = series.to_numpy(dtype=np.float64)
    else:
        raise PitboardError(f"{where}: values like {series.iloc[0]!r} are neither times nor epoch seconds")
    if series.isna().any():
        raise PitboardError(f"{where}: {int(series.isna().sum())} rows have no time")
    return seconds


def ingest_files(
    store: Store,
    ref: str,
    patterns: Sequence[str],
    *,
    labels: str | None = None,
    time_column: str | None = None,
    cluster: str | None = None,
) -> IngestReport:
    """Ingest batch files scored by `ref` (NAME@ALIAS or NAME@VERSION) into windows.

    Files already ingested (same SHA-256) are skipped and named in the report. Several
    files, or a Dask cluster, form one stream whose windows merge the files' parts.
    """
    from core.registry.versions import resolve
    from core.store.artifacts import get_blob

    version = resolve(store, ref)
    paths = expand_paths(patterns)
    settings = monitoring_settings(store, version.name)
    kind = settings["window"]
    notes = []
    if kind in TIME_WINDOW_SECONDS and not time_column:
        kind = "rows"  # without a time column a file has no times of its own to bucket by
        notes.append(f"no --time-column: windows of up to {settings['window_rows']} rows instead of {settings['window']}")
    reference = ensure_reference(store, version)
    segments = ensure_segments(store, version, reference, settings)
    min_rows = rules_for(store, version.name)["min_rows"]
    model_bytes = get_blob(store, version.model_sha256)
    shas = {path: file_sha256(path) for path in paths}
    known = {r["sha256"]: r["ingested_at"] for r in store.rows(
        f"SELECT sha256, ingested_at FROM monitor_files WHERE sha256 IN ({', '.join('?' for _ in shas)})", list(shas.values()))}
    todo = [p for p in paths if shas[p] not in known]
    report = IngestReport(", ".join(str(p) for p in paths), notes=notes)
    if len(todo) < len(paths):
        from core.store.clock import iso

        report.skipped = "; ".join(f"{p}: already ingested at {iso(known[shas[p]])}" for p in paths if p not in todo)
    if not todo:
        return report
    now = store.clock()
    jobs = [_FileJob(str(p), model_bytes, version.info, reference, kind, settings["window_rows"], labels,
                     time_column, now, settings["min_effect"], segments) for p in todo]
    results = _map(jobs, cluster)
    if kind in TIME_WINDOW_SECONDS:
        sparse = _sparse_time_windows(results, min_rows)
        if sparse:  # too few rows per time window to judge any: blocks of rows judge them all
            kind = "rows"
            notes.append(f"{sparse}: windows of up to {settings['window_rows']} rows instead of {settings['window']}")
            jobs = [replace(job, kind=kind) for job in jobs]
            results = _map(jobs, cluster)
    by_key: dict[int, list[WindowStats]] = {}
    rows_of: dict[int, list[np.ndarray]] = {}  # window key -> row positions in the files, one after another
    blocks = offset = 0
    for n_rows, parts, positions in results:
        for stats, rows in zip(parts, positions):
            if kind == "rows":  # row blocks of different files are different windows
                stats.key = blocks
                blocks += 1
            by_key.setdefault(stats.key, []).append(stats)
            rows_of.setdefault(stats.key, []).append(rows + offset)
        offset += n_rows
    stream = "file " + shas[todo[0]] if len(todo) == 1 else "batch " + hashlib.sha256(
        "".join(sorted(shas[p] for p in todo)).encode()).hexdigest()
    with store.transaction():
        kept = _keep_labelled_rows(store, version, todo, labels, time_column) if labels else None
        for (path, (n_rows, parts, _)) in zip(todo, results):
            inserted = store.conn.execute(
                "INSERT OR IGNORE INTO monitor_files (sha256, model_id, version_id, path, n_rows, n_windows, labels, ingested_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (shas[path], version.model_id, version.id, str(path), n_rows, len(parts), labels, now),
            ).rowcount
            if not inserted:
                raise PitboardError(f"{path}: was ingested by another process just now; nothing written")
            report.rows += n_rows
        for key in sorted(by_key):
            stats = merge(reference, by_key[key], settings["min_effect"])
            window_id, raised = write_window(
                store, model_id=version.model_id, model=version.name, version_id=version.id, stream=stream,
                stats=stats, reference=reference,
            )
            report.windows.append(window_id)
            report.raised(raised)
            report.future_rows += stats.future_rows
            if stats.n_rows < min_rows:
                report.notes.append(f"window {window_id}: {stats.n_rows} rows, fewer than [alerts] min_rows = {min_rows}:"
                                    " drift and estimates are shown but not alerted on")
            if kept is not None:
                store.conn.execute(
                    "INSERT INTO monitor_window_rows (window_id, dataset_version_id, label_column, rows) VALUES (?, ?, ?, ?)",
                    (window_id, kept.id, labels, np.concatenate(rows_of[key]).astype(np.int64).tobytes()))
        store.audit("monitor.ingest", version.ref, {
            "files": [str(p) for p in todo], "rows": report.rows, "windows": report.windows, "alerts": report.alerts,
            "labels": labels, "kept_as": kept.ref if kept else None, "cluster": cluster})
    return report


def even_block(n_rows: int, most: int) -> int:
    """Rows per block so that `n_rows` split into equal blocks of at most `most`.

    1,500 rows with window_rows = 1000 give two windows of 750, not 1000 and a 500-row
    tail that would be judged on half the evidence.
    """
    if n_rows <= most:
        return max(n_rows, 1)
    blocks = -(-n_rows // most)
    return -(-n_rows // blocks)


def _sparse_time_windows(results: list[tuple[int, list[WindowStats], list[np.ndarray]]], min_rows: int) -> str:
    """Why time windows would be too thin to judge (empty when they are not).

    Thin means the median window, over all files, holds fewer than [alerts] min_rows rows,
    so that drift and estimates would be shown but never alerted on for most of the batch.
    """
    sizes: dict[int, int] = {}
    for _, parts, _ in results:
        for stats in parts:
            sizes[stats.key] = sizes.get(stats.key, 0) + stats.n_rows
    if len(sizes) < 2:
        return ""
    median = float(np.median(list(sizes.values())))
    if median >= min_rows:
        return ""
    return (f"{sum(sizes.values())} rows over {len(sizes)} time windows (median {median:g} rows,"
            f" fewer than [alerts] min_rows = {min_rows})")


def _keep_labelled_rows(store: Store, version: Any, paths: list[Path], labels: str, time_column: str | None) -> Any:
    """The labelled files of one ingest as a dataset version (`<model>-labelled`), rows in file order.

    Retraining learns from these rows and the promotion gate judges on them, as they do
    with the prediction log's labelled rows; the content hash makes the version the
    lineage of any model retrained on them. The features, the labels and the time column
    are kept, nothing else a file may hold.
    """
    import pandas as pd

    from core.data.datasets import add_frame
    from core.data.tabular import read_tabular

    wanted = [*(f["name"] for f in version.info["signature"]), labels, *([time_column] if time_column else [])]
    frame = pd.concat([read_tabular(path)[wanted] for path in paths], ignore_index=True)
    if time_column and pd.api.types.is_numeric_dtype(frame[time_column].dtype):  # epoch seconds, as _times reads them
        frame[time_column] = pd.to_datetime(frame[time_column], unit="s")
    kept, _ = add_frame(store, f"{version.name}-labelled", frame, source=", ".join(str(p) for p in paths),
                        target=labels, time_column=time_column)
    return kept


def _map(jobs: list[_FileJob], cluster: str | None) -> list[tuple[int, list[WindowStats], list[np.ndarray]]]:
    """Reduce files here, or on the Dask cluster at `cluster` (results in the same order)."""
    if cluster is None:
        return [reduce_file(job) for job in jobs]
    from distributed import Client

    try:
        client = Client(cluster, timeout="5s")
    except (OSError, TimeoutError) as exc:
        raise PitboardError(f"--cluster {cluster}: cannot reach the Dask scheduler ({exc})") from exc
    with client:
        return client.gather(client.map(reduce_file, jobs, pure=False))
