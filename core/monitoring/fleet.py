"""Fleet ingest: segments written by replicas anywhere (`serve --log-to URL`) into windows, exactly once.

`pitboard monitor ingest NAME --from URL` lists the segments at URL
(`core.serving.segments`), reads those the ledger (`fleet_segments`) has not seen, and
takes them in:

- A prediction segment becomes one flush of the model's **fleet deployment** (one
  `deployments` row for all its replicas), under the next seq range of that deployment,
  and `fleet_seq_ranges` remembers which replica seqs it holds. Its windows are then
  formed by `core.monitoring.ingest` exactly as for a local deployment's log (the log
  cursor expects seqs in the order flushes arrive, which ingest order is), so drift,
  estimates and alerts equal those of the same traffic logged locally.
- A feedback segment's labels are translated to fleet seqs and stored as feedback, also
  when they come from another replica or a later segment. Labels for predictions no
  ingested segment holds are kept (`fleet_pending_feedback`), retried at every ingest
  and reported; labels that are not a valid answer for the model are counted, dropped.
- A failed-request segment becomes a `request_errors` row of the fleet deployment.

Exactly once: the segments of one ingest are taken in ONE transaction that also writes
their ledger rows (name and SHA-256), after checking the ledger again inside it, so a
second process (cron firing twice) that read the same segments writes nothing of
them; the windows then follow through the log cursor's compare-and-swap. A segment that
cannot be read (truncated, corrupt, not what its name says) is skipped, named and
counted, and recorded so that it is not read again; the same content under another
name (an upload repeated after a failure) is a duplicate, skipped. Segments of a version
this database does not know wait, named, until its bundle is imported.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.monitoring.ingest import IngestReport, apply_feedback, ingest_deployment
from core.monitoring.settings import monitoring_settings
from core.serving.predictlog import FEATURE, META, OUTPUT
from core.serving.segments import SegmentName, open_target, parse_name
from core.serving.service_errors import ERROR_DTYPE
from core.store.database import Store
from core.store.errors import PitboardError

MAX_SEGMENT_BYTES = 1 << 30  # larger files are not segments a replica writes (max_rows caps them)
ORDER = {"pred": 0, "err": 1, "fb": 2}  # predictions first: labels in the same ingest find them


@dataclass
class FleetReport:
    """What one fleet ingest did."""

    source: str
    segments: int = 0
    rows: int = 0
    labels: int = 0
    errors: int = 0
    replicas: list[str] = field(default_factory=list)  # replicas seen for the first time
    corrupt: list[str] = field(default_factory=list)  # "name: why"
    duplicates: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # segments of versions not registered here
    other_models: int = 0
    unknown_feedback: int = 0  # labels for predictions no ingested segment holds (kept, retried)
    invalid_labels: int = 0
    windows: list[IngestReport] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        found = dict(self.__dict__)
        found["windows"] = [report.to_dict() for report in self.windows]
        return found


@dataclass
class Segment:
    """One segment read and checked (or why it could not be): picklable, for Dask workers too."""

    path: str
    name: SegmentName
    sha256: str
    data: bytes = b""
    meta: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, Any] = field(default_factory=dict)  # fb and err segments: numpy columns
    n_rows: int = 0
    requests: int = 0
    schema: dict[str, str] = field(default_factory=dict)  # pred segments: column -> Arrow type
    problem: str = ""


def read_segment(fs: Any, path: str) -> Segment:
    """Read and check one segment's bytes; never raises for what the file holds."""
    import pyarrow as pa

    name = parse_name(path.rsplit("/", 1)[-1])
    assert name is not None  # listed by name
    size = fs.size(path)
    if size is not None and size > MAX_SEGMENT_BYTES:
        return Segment(path, name, "", problem=f"{size} bytes, more than any replica writes")
    data = fs.cat_file(path)
    segment = Segment(path, name, hashlib.sha256(data).hexdigest())
    try:
        table = pa.ipc.open_stream(data).read_all()
        segment.meta = json.loads((table.schema.metadata or {}).get(b"pitboard.segment", b"null"))
        segment.problem = _meta_problem(segment.meta, name) or _columns_problem(table, name.kind, segment.meta)
    except (pa.ArrowException, OSError, ValueError, TypeError) as exc:  # truncated, corrupt, not Arrow at all
        segment.problem = f"not a readable segment ({str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__})"
    if segment.problem:
        return segment
    segment.n_rows = table.num_rows
    if name.kind == "pred":
        segment.data = data
        segment.schema = {column: str(table.schema.field(column).type) for column in table.column_names}
        segment.requests = len(np.unique(table.column(META + "request").to_numpy(zero_copy_only=False)))
    else:
        segment.columns = {column: table.column(column).to_numpy(zero_copy_only=False) for column in table.column_names}
    return segment


def _meta_problem(meta: Any, name: SegmentName) -> str:
    if not isinstance(meta, dict):
        return "no pitboard.segment metadata"
    if meta.get("replica") != name.replica or meta.get("key") != name.key:
        return "its metadata names another replica than its file name"
    if not isinstance(meta.get("model"), str) or not isinstance(meta.get("model_sha256"), str):
        return "its metadata names no model"
    if name.kind == "pred":
        for key in ("first_seq", "n_rows"):
            if not isinstance(meta.get(key), int) or isinstance(meta.get(key), bool) or meta[key] < 1:
                return f"metadata {key} = {meta.get(key)!r} is not a positive integer"
    return ""


def _columns_problem(table: Any, kind: str, meta: dict[str, Any]) -> str:
    import pyarrow as pa

    wanted = {
        "pred": {META + "ts": pa.types.is_floating, META + "request": pa.types.is_integer},
        "fb": {"replica_key": pa.types.is_integer, "seq": pa.types.is_integer, "label": pa.types.is_string,
               "ts": pa.types.is_floating},
        "err": {"status": pa.types.is_integer, "ts": pa.types.is_floating, "seq": pa.types.is_integer},
    }[kind]
    for column, check in wanted.items():
        if column not in table.column_names or not check(table.schema.field(column).type):
            return f"column {column!r} is missing or of the wrong type"
        if table.column(column).null_count:
            return f"column {column!r} has nulls"
    if kind == "pred" and table.num_rows != meta["n_rows"]:
        return f"{table.num_rows} rows, its metadata says {meta['n_rows']}"
    ts = table.column("ts" if kind != "pred" else META + "ts").to_numpy(zero_copy_only=False)
    if not np.isfinite(ts).all():
        return "times that are not finite"
    return ""


def list_segments(fs: Any, root: str) -> list[tuple[str, SegmentName]]:
    """(path, name) of every segment at `root`, predictions first; temporary and foreign files ignored."""
    found = []
    for path in fs.ls(root, detail=False, refresh=True):
        name = parse_name(path.rstrip("/").rsplit("/", 1)[-1])
        if name is not None:
            found.append((path, name))
    return sorted(found, key=lambda item: (ORDER[item[1].kind], item[1].replica, item[1].seq))



# -- taking segments in ---------------------------------------------------------------------


def ingest_fleet(store: Store, model: str, url: str, *, cluster: str | None = None) -> FleetReport:
    """Take in the new segments of `model` at `url`, then form its windows and apply labels."""
    from core.monitoring.alerts import rules_for
    from core.registry.versions import model_id as find_model

    owner = find_model(store, model)
    monitoring_settings(store, model)  # a broken section fails now, before anything is read
    rules_for(store, model)
    fs, root = open_target(url, create=False)
    report = FleetReport(url)
    seen = {row["name"] for row in store.rows("SELECT name FROM fleet_segments WHERE model_id = ?", (owner,))}
    todo = [path for path, name in list_segments(fs, root) if str(name) not in seen]
    segments = _read(fs, todo, cluster)
    with store.transaction():
        fleet = None
        for segment in segments:
            fleet = _take(store, owner, model, segment, report, fleet)
        _retry_pending(store, owner, report)
        if report.segments or report.corrupt or report.duplicates:
            store.audit("monitor.ingest", model, {
                "from": url, "segments": report.segments, "rows": report.rows, "labels": report.labels,
                "corrupt": len(report.corrupt), "duplicates": len(report.duplicates), "unknown_feedback": report.unknown_feedback})
    deployment = store.value("SELECT deployment_id FROM fleet_deployments WHERE model_id = ?", (owner,))
    if deployment is not None:
        report.windows.append(ingest_deployment(store, deployment))
        labels = apply_feedback(store, model)
        if labels.relabelled:
            report.windows.append(labels)
    return report


def _read(fs: Any, paths: list[str], cluster: str | None) -> list[Segment]:
    """Read segments here, or on the Dask cluster at `cluster` for a large backlog (same order)."""
    if cluster is None or not paths:
        return [read_segment(fs, path) for path in paths]
    from distributed import Client

    try:
        client = Client(cluster, timeout="5s")
    except (OSError, TimeoutError) as exc:
        raise PitboardError(f"--cluster {cluster}: cannot reach the Dask scheduler ({exc})") from exc
    with client:
        return client.gather(client.map(read_segment, [fs] * len(paths), paths, pure=False))


def _take(store: Store, owner: int, model: str, segment: Segment, report: FleetReport, fleet: int | None) -> int | None:
    """Take one segment in (inside the ingest's transaction); returns the fleet deployment id."""
    name = str(segment.name)
    if store.value("SELECT 1 FROM fleet_segments WHERE model_id = ? AND name = ?", (owner, name)):
        return fleet  # another ingest took it in since we listed
    if segment.problem:
        report.corrupt.append(f"{name}: {segment.problem}")
        _ledger(store, owner, segment, "corrupt", None, segment.problem)
        return fleet
    if segment.meta["model"] != model:
        report.other_models += 1
        return fleet
    if store.value("SELECT 1 FROM fleet_segments WHERE model_id = ? AND sha256 = ? AND status = 'ingested'",
                   (owner, segment.sha256)):
        report.duplicates.append(name)
        _ledger(store, owner, segment, "duplicate", None, "same content as a segment already ingested")
        return fleet
    version = store.row("SELECT id, info FROM model_versions WHERE model_id = ? AND model_sha256 = ?",
                        (owner, segment.meta["model_sha256"]))
    if version is None:
        report.waiting.append(f"{name}: {model} v{segment.meta.get('version')} (model {segment.meta['model_sha256'][:12]})"
                              " is not registered here; import its bundle with `pitboard bundle import`")
        return fleet
    if segment.name.kind == "pred":
        problem = _signature_problem(json.loads(version["info"]), segment.schema)
        if problem:
            report.corrupt.append(f"{name}: {problem}")
            _ledger(store, owner, segment, "corrupt", None, problem)
            return fleet
    if fleet is None:
        fleet = _fleet_deployment(store, owner, version["id"])
    replica = _replica(store, owner, segment, report)
    if replica is None:
        report.corrupt.append(f"{name}: its key {segment.name.key} belongs to another replica")
        _ledger(store, owner, segment, "corrupt", None, "replica key collision")
        return fleet
    if segment.name.kind == "pred":
        if not _take_predictions(store, fleet, replica, version["id"], segment):
            report.duplicates.append(name)
            _ledger(store, owner, segment, "duplicate", replica, "rows already ingested from another segment")
            return fleet
        report.rows += segment.n_rows
    elif segment.name.kind == "err":
        report.errors += _take_errors(store, fleet, replica, version["id"], segment)
    else:
        _take_feedback(store, owner, json.loads(version["info"]), segment, report)
    _ledger(store, owner, segment, "ingested", replica, None)
    report.segments += 1
    return fleet


def _signature_problem(info: dict[str, Any], schema: dict[str, str]) -> str:
    """Why a prediction segment's columns cannot be windowed with this version (empty when they can)."""
    for feature in info.get("signature") or []:
        column = FEATURE + feature["name"]
        if column not in schema:
            return f"no column {column!r}, which the model's signature has"
        if feature.get("role") == "numeric" and not re.match(r"^(double|float|int|uint|bool|null)", schema[column]):
            return f"column {column!r} holds {schema[column]}, not numbers"
    if not any(column.startswith(OUTPUT) for column in schema):
        return "no output columns"
    return ""


def _ledger(store: Store, owner: int, segment: Segment, status: str, replica: int | None, detail: str | None) -> None:
    store.conn.execute(
        "INSERT INTO fleet_segments (model_id, name, sha256, kind, status, replica_id, n_rows, written_at, ingested_at, detail)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (owner, str(segment.name), segment.sha256, segment.name.kind, status, replica, segment.n_rows,
         segment.meta.get("ts_max") if isinstance(segment.meta, dict) else None, store.clock(), detail),
    )


def _fleet_deployment(store: Store, owner: int, version_id: int) -> int:
    found = store.value("SELECT deployment_id FROM fleet_deployments WHERE model_id = ?", (owner,))
    if found is not None:
        return int(found)
    deployment = store.conn.execute(
        "INSERT INTO deployments (model_id, version_id, alias, host, port, pid, started_at) VALUES (?, ?, NULL, 'fleet', 0, 0, ?)",
        (owner, version_id, store.clock()),
    ).lastrowid
    store.conn.execute("INSERT INTO fleet_deployments (model_id, deployment_id) VALUES (?, ?)", (owner, deployment))
    return int(deployment)


def _replica(store: Store, owner: int, segment: Segment, report: FleetReport) -> int | None:
    """The replica's row (created when first seen); None when its key is another replica's."""
    name = segment.name
    ts = float(segment.meta.get("ts_max") or 0.0) if name.kind == "pred" else None
    row = store.row("SELECT id, replica FROM fleet_replicas WHERE model_id = ? AND replica_key = ?", (owner, name.key))
    if row is None:
        replica = store.conn.execute(
            "INSERT INTO fleet_replicas (model_id, replica, replica_key, host, pid, started_at, first_segment_at,"
            " last_segment_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (owner, name.replica, name.key, name.host, name.pid, name.started_ms / 1000.0,
             ts if ts is not None else name.started_ms / 1000.0, ts if ts is not None else name.started_ms / 1000.0),
        ).lastrowid
        report.replicas.append(name.replica)
        return int(replica)
    if row["replica"] != name.replica:
        return None
    return int(row["id"])


def _take_predictions(store: Store, fleet: int, replica: int, version_id: int, segment: Segment) -> bool:
    """One prediction segment as one flush of the fleet deployment; False when its seqs were taken already."""
    meta = segment.meta
    if store.value("SELECT 1 FROM fleet_seq_ranges WHERE replica_id = ? AND first_seq = ?", (replica, meta["first_seq"])):
        return False
    fleet_seq = store.value(
        "SELECT COALESCE(MAX(first_seq + n_rows), 1) FROM prediction_batches WHERE deployment_id = ?", (fleet,))
    store.conn.execute(
        "INSERT INTO prediction_batches (deployment_id, version_id, first_seq, n_rows, ts_min, ts_max, data)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (fleet, version_id, fleet_seq, segment.n_rows, float(meta["ts_min"]), float(meta["ts_max"]), segment.data),
    )
    store.conn.execute("INSERT INTO fleet_seq_ranges (replica_id, first_seq, n_rows, fleet_seq) VALUES (?, ?, ?, ?)",
                       (replica, meta["first_seq"], segment.n_rows, fleet_seq))
    store.conn.execute(
        "UPDATE fleet_replicas SET rows = rows + ?, requests = requests + ?, segments = segments + 1,"
        " first_segment_at = MIN(first_segment_at, ?), last_segment_at = MAX(last_segment_at, ?) WHERE id = ?",
        (segment.n_rows, segment.requests, float(meta["ts_min"]), float(meta["ts_max"]), replica),
    )
    return True


def _fleet_seq(store: Store, replica: int, seq: int) -> int | None:
    """The fleet deployment's seq of a replica's prediction `seq`; None when no ingested segment holds it."""
    found = store.row(
        "SELECT first_seq, n_rows, fleet_seq FROM fleet_seq_ranges WHERE replica_id = ? AND first_seq <= ?"
        " ORDER BY first_seq DESC LIMIT 1", (replica, seq))
    if found is None or seq >= found["first_seq"] + found["n_rows"]:
        return None
    return int(found["fleet_seq"] + seq - found["first_seq"])


def _take_errors(store: Store, fleet: int, replica: int, version_id: int, segment: Segment) -> int:
    """Failed requests, placed before the fleet seq of the replica's next prediction (or the fleet's next)."""
    from core.serving.service_errors import INSERT_SQL, flush_row

    columns = segment.columns
    nxt = store.value("SELECT COALESCE(MAX(first_seq + n_rows), 1) FROM prediction_batches WHERE deployment_id = ?", (fleet,))
    records = []
    for status, ts, seq in zip(columns["status"], columns["ts"], columns["seq"]):
        mapped = _fleet_seq(store, replica, int(seq))
        records.append((version_id, int(status), float(ts), mapped if mapped is not None else int(nxt)))
    if records:
        np.array(records, dtype=ERROR_DTYPE)  # statuses beyond int16 fail here, not in the blob
        store.conn.execute(INSERT_SQL, flush_row(fleet, records))
    return len(records)


def _take_feedback(store: Store, owner: int, info: dict[str, Any], segment: Segment, report: FleetReport) -> None:
    columns = segment.columns
    valid = _label_check(info)
    pending = []
    for key, seq, text, ts in zip(columns["replica_key"], columns["seq"], columns["label"], columns["ts"]):
        try:
            label = json.loads(text)
        except ValueError:
            label = None
        if not valid(label):
            report.invalid_labels += 1
            continue
        pending.append((owner, int(key), int(seq), label, float(ts)))
    store.conn.executemany(
        "INSERT INTO fleet_pending_feedback (model_id, replica_key, seq, label, ts) VALUES (?, ?, ?, ?, ?)", pending)


def _label_check(info: dict[str, Any]) -> Any:
    """A check that a label is one the model can be scored on (as the service checks /feedback)."""
    if info.get("task") == "classification":
        classes = {json.dumps(c) for c in info.get("classes") or []}
        return lambda label: json.dumps(label) in classes
    return lambda label: isinstance(label, (int, float)) and not isinstance(label, bool) and label == label


def _retry_pending(store: Store, owner: int, report: FleetReport) -> None:
    """Labels whose prediction is now ingested become feedback; the rest wait, counted."""
    fleet = store.value("SELECT deployment_id FROM fleet_deployments WHERE model_id = ?", (owner,))
    replicas = {row["replica_key"]: row["id"] for row in store.rows(
        "SELECT id, replica_key FROM fleet_replicas WHERE model_id = ?", (owner,))}
    done, feedback = [], []
    rows = store.rows("SELECT * FROM fleet_pending_feedback WHERE model_id = ? ORDER BY id", (owner,))
    for row in rows:
        replica = replicas.get(row["replica_key"])
        mapped = None if replica is None or fleet is None else _fleet_seq(store, replica, row["seq"])
        if mapped is not None:
            done.append((row["id"],))
            feedback.append((fleet, mapped, row["label"], row["ts"]))
    store.conn.executemany("INSERT OR REPLACE INTO feedback (deployment_id, seq, label, ts) VALUES (?, ?, ?, ?)", feedback)
    store.conn.executemany("DELETE FROM fleet_pending_feedback WHERE id = ?", done)
    report.labels += len(feedback)
    report.unknown_feedback = len(rows) - len(done)


# -- what the app shows -----------------------------------------------------------------------


def replicas(store: Store, model: str) -> list[dict[str, Any]]:
    """The replicas that reported for `model`: last segment time, request rate, and whether silent too long."""
    settings = monitoring_settings(store, model)
    now = store.clock()
    found = []
    for row in store.rows(
        "SELECT r.* FROM fleet_replicas r JOIN models m ON m.id = r.model_id WHERE m.name = ? ORDER BY r.replica", (model,)):
        span = max(row["last_segment_at"] - row["first_segment_at"], 1.0)
        silent = now - row["last_segment_at"]
        found.append({
            "replica": row["replica"], "host": row["host"], "pid": row["pid"], "started_at": row["started_at"],
            "last_segment_at": row["last_segment_at"], "rows": row["rows"], "requests": row["requests"],
            "segments": row["segments"], "requests_per_s": row["requests"] / span, "silent_seconds": silent,
            "silent": silent > settings["replica_silent_seconds"],
        })
    return found

