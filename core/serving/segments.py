"""Logs that travel: the prediction log written as immutable segment files (`serve --log-to URL`).

Why segments: replicas on other machines cannot share one SQLite file (not over a network
file system either), so each replica writes what one flush of `core.serving.predictlog`
would have committed as files in a folder or an object store, reached through fsspec
(`file://`, `s3://` with s3fs; credentials from the usual environment variables such as
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_ENDPOINT_URL, never from the command
line). `pitboard monitor ingest NAME --from URL` (`core.monitoring.fleet`) pulls them in.

One flush writes up to three segments, each an Arrow IPC stream:

- `pred_...`: the predictions of one model version, exactly the columns a local flush
  stores, with the replica, model and seq range in the schema's metadata;
- `fb_...`: feedback labels (replica key, seq, the label as JSON, time);
- `err_...`: failed /predict requests (status, time, seq).

A reader never sees half a segment: a local file is written under a hidden temporary
name and renamed (atomic on one file system); an object store PUT is atomic itself (the
object appears whole or not at all). Names are unique per replica:
`<kind>_<host>_<pid>_<start ms>_<key>_<segment seq>.arrow`, where `key` is a random number
the replica also puts in its prediction ids (`<key>-<seq>`), so ids from different
replicas never collide and feedback sent to any replica finds its prediction at ingest.
A segment's bytes depend only on its rows, so a flush retried after a failed upload
writes the same content again, which the ingest ledger recognises by hash.

Durability is the database log's: a replica killed with SIGKILL loses the rows answered
in its last `[serving] log_interval` seconds (or fewer than `log_max_rows`), nothing else.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.serving.predictlog import META, PredictionLog, by_version, Pending, encode, table_of
from core.store.errors import PitboardError

KINDS = ("pred", "fb", "err")
SUFFIX = ".arrow"
NAME = re.compile(r"^(pred|fb|err)_([A-Za-z0-9.-]{1,63})_(\d{1,10})_(\d{1,15})_(\d{1,10})_(\d{1,12})\.arrow$")
KEY_LIMIT = 2**31  # replica keys: request numbers are logged as key << 32 | n, within int64
REQUEST_SHIFT = 32


@dataclass(frozen=True)
class SegmentName:
    """What a segment's name says: its kind, replica and place in the replica's sequence."""

    kind: str
    host: str
    pid: int
    started_ms: int
    key: int
    seq: int

    @property
    def replica(self) -> str:
        return f"{self.host}_{self.pid}_{self.started_ms}_{self.key}"

    def __str__(self) -> str:
        return f"{self.kind}_{self.replica}_{self.seq:09d}{SUFFIX}"


def parse_name(name: str) -> SegmentName | None:
    """A segment's base name read back; None for anything else (temporary files, strangers)."""
    match = NAME.match(name)
    if match is None:
        return None
    kind, host, pid, started, key, seq = match.groups()
    if int(key) >= KEY_LIMIT:
        return None
    return SegmentName(kind, host, int(pid), int(started), int(key), int(seq))


def host_name() -> str:
    """This machine's name as it may appear in a segment name (no underscores, at most 63 characters)."""
    return re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname())[:63] or "host"


# -- where segments go ------------------------------------------------------------------------


def open_target(url: str, *, create: bool) -> tuple[Any, str]:
    """(fsspec file system, root path) for a folder or object-store URL, checked reachable.

    A bucket that does not exist or denies access is one line naming the URL, never a
    traceback; credentials come from the environment and are never echoed.
    """
    import fsspec

    if "://" not in url:
        url = "file://" + os.path.abspath(url)
    try:
        fs, root = fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise PitboardError(f"{url}: cannot open this URL ({exc})") from exc
    root = root.rstrip("/")
    try:
        if _is_local(fs):
            if create:
                fs.makedirs(root, exist_ok=True)
            elif not fs.isdir(root):
                raise PitboardError(f"{url}: no such folder")
        else:
            bucket = root.split("/", 1)[0]
            fs.ls(bucket, refresh=True)
    except PitboardError:
        raise
    except FileNotFoundError as exc:
        raise PitboardError(f"{url}: the bucket or folder does not exist") from exc
    except PermissionError as exc:
        raise PitboardError(f"{url}: access denied (check the credentials in the environment)") from exc
    except OSError as exc:
        raise PitboardError(f"{url}: cannot reach it ({_short(exc)})") from exc
    return fs, root


def _is_local(fs: Any) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return protocol in ("file", "local")


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def put_atomically(fs: Any, path: str, data: bytes) -> None:
    """Write `data` so that `path` appears whole or not at all."""
    if _is_local(fs):
        folder, _, base = path.rpartition("/")
        temporary = f"{folder}/.{base}.{secrets.token_hex(4)}.tmp"
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    else:
        fs.pipe_file(path, data)


# -- encoding ---------------------------------------------------------------------------------


def replica_metadata(name: SegmentName, extra: Mapping[str, Any]) -> dict[str, str]:
    return {"pitboard.segment": json.dumps({"replica": name.replica, "key": name.key, **extra}, sort_keys=True)}


def feedback_columns(feedback: list[tuple[int, int, Any, float]]) -> dict[str, np.ndarray]:
    labels = np.empty(len(feedback), dtype=object)
    labels[:] = [json.dumps(label) for _, _, label, _ in feedback]
    return {
        "replica_key": np.array([f[0] for f in feedback], dtype=np.int64),
        "seq": np.array([f[1] for f in feedback], dtype=np.int64),
        "label": labels,
        "ts": np.array([f[3] for f in feedback], dtype=np.float64),
    }


def error_columns(errors: list[tuple[int, int, float, int]]) -> dict[str, np.ndarray]:
    return {
        "status": np.array([e[1] for e in errors], dtype=np.int64),
        "ts": np.array([e[2] for e in errors], dtype=np.float64),
        "seq": np.array([e[3] for e in errors], dtype=np.int64),
    }


class SegmentLog(PredictionLog):
    """The prediction log of one replica, written as segments to `url` instead of a database.

    The batching, the writer thread, the retry of failed writes and the final flush at
    shutdown are `PredictionLog`'s; only where a flush goes differs.
    """

    def __init__(self, url: str, model: Mapping[str, Any], *, port: int, interval: float = 0.5,
                 max_rows: int = 5000, started: float) -> None:
        self.fs, self.root = open_target(url, create=True)
        self.url = url
        self.model = dict(model)  # name, version, model_sha256: how the ingest finds the version
        key = secrets.randbelow(KEY_LIMIT - 1) + 1
        self.name = SegmentName("pred", host_name(), os.getpid(), int(started * 1000), key, 0)
        self.port = port
        self._segment_seq = 0
        self._written: set[str] = set()  # contents already uploaded by a flush that failed later
        super().__init__(None, key, interval=interval, max_rows=max_rows)

    @property
    def replica_key(self) -> int:
        return self.deployment_id

    def append(self, version_id: int, columns: Mapping[str, Any], n_rows: int) -> int:
        """As `PredictionLog.append`; request numbers become unique across replicas (key << 32 | n)."""
        columns = dict(columns)
        columns[META + "request"] = (self.replica_key << REQUEST_SHIFT) | int(columns[META + "request"])
        return super().append(version_id, columns, n_rows)

    def _write(self, batch: list[Pending], feedback: list[tuple[int, int, Any, float]],
               errors: list[tuple[int, int, float, int]]) -> None:
        parts: list[tuple[str, bytes]] = []
        for group in by_version(batch):
            table = table_of(group)
            n_rows = int(sum(p.n_rows for p in group))
            ts = np.asarray(table[META + "ts"], dtype=np.float64)
            parts.append(("pred", encode(table, replica_metadata(self.name, {
                **self.model, "first_seq": group[0].first_seq, "n_rows": n_rows, "port": self.port,
                "ts_min": float(ts.min()), "ts_max": float(ts.max())}))))
        if feedback:
            parts.append(("fb", encode(feedback_columns(feedback), replica_metadata(self.name, self.model))))
        if errors:
            parts.append(("err", encode(error_columns(errors), replica_metadata(self.name, self.model))))
        for kind, data in parts:
            if data in self._written:
                continue  # uploaded before a later part of the same flush failed
            self._segment_seq += 1
            name = SegmentName(kind, self.name.host, self.name.pid, self.name.started_ms, self.replica_key,
                               self._segment_seq)
            put_atomically(self.fs, f"{self.root}/{name}", data)
            self._written.add(data)
        self._written.clear()
        self.written_rows += int(sum(p.n_rows for p in batch))

