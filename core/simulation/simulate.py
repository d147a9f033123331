"""A live source of traffic for the demo and the tests: replay production months.

`simulate` sends the monthly production batches of `sample_data/production/` to a model
as prediction requests, sends the true labels back through `/feedback` after a delay,
and after each month reduces the log into windows, so drift, alerts and retraining
unfold as they would in production. Two ways to reach the model:

- **in-process** (no URL): a `core.serving.service.Service` on the database, driven by a virtual
  clock. Each production month is replayed as one UTC day of virtual time (so the default
  daily windows are months), requests are spaced `1 / rate` virtual seconds per row and
  labels are due `feedback_delay` virtual seconds later. Nothing sleeps except while
  waiting for the prediction log's writer thread to commit (an event in the database).
- **over HTTP** (`url`): a running `pitboard serve`, in real time: requests are paced at
  `rate` rows per second and labels sent after `feedback_delay` real seconds. Prediction
  times are then the service's clock, so use `window = "rows"` in `[monitoring]` for the
  demo (daily windows would not close until midnight).

Either way the replay ends once every label was sent: the last month waits out the
feedback delay of its labels, so its windows are scored before `simulate` returns.

Time, in-process: the virtual clock only moves forward. Windows, alerts, feedback and
every audit row the replay writes carry virtual times, and so does a retrain it starts:
inline, or as a job told the virtual time (`core.monitoring.retraining.retrain_job`), while the job's
own row (created, started, ended, heartbeat) carries real times, because a job is a real
process whose duration people read in the Jobs pane (`core.jobs.runner.job_time`).
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.store.database import Store
from core.store.errors import PitboardError
from core.store.refs import parse_ref

SCENARIOS = {"recession": "month_{:02d}.csv"}
DAY = 86400.0
PRODUCTION = Path(__file__).resolve().parents[2] / "sample_data" / "production"


class VirtualClock:
    """A clock the simulation moves by hand (the service and the store read it)."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@dataclass
class MonthReport:
    """What happened while one month was replayed."""

    month: int
    rows: int
    labels_sent: int
    unknown_ids: int
    windows: list[int] = field(default_factory=list)
    drifted: list[str] = field(default_factory=list)
    alerts: list[int] = field(default_factory=list)  # raised by the month's windows (core.monitoring.alerts.record)
    opened: list[int] = field(default_factory=list)  # those of them the month's windows opened
    retrain: Any = None
    retrain_outcome: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def month_files(scenario: str, months: int, folder: Path = PRODUCTION) -> list[Path]:
    """The production batches of a scenario, months 1..K, each checked to exist."""
    if scenario not in SCENARIOS:
        raise PitboardError(f"--scenario {scenario!r}: unknown; valid: {', '.join(SCENARIOS)}")
    if months < 1:
        raise PitboardError(f"--months {months}: must be at least 1")
    files = [folder / SCENARIOS[scenario].format(m) for m in range(1, months + 1)]
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        raise PitboardError(f"scenario {scenario}: missing production batch {missing[0]} (run sample_data/generate.py)")
    return files


class _Service:
    """The model's HTTP API, through any httpx-style client (a socket or the ASGI app itself)."""

    def __init__(self, client: Any, where: str) -> None:
        self.client = client
        self.where = where

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        import httpx

        try:
            response = self.client.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise PitboardError(f"{self.where}: {path} failed ({exc})") from exc
        if response.status_code != 200:
            raise PitboardError(f"{self.where}: {path} answered {response.status_code}: {response.text[:200]}")
        return response.json()

    def features(self) -> list[str]:
        return [entry["name"] for entry in self._call("GET", "/metadata")["signature"]]

    def predict(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        return self._call("POST", "/predict", {"records": records})

    def feedback(self, labels: list[dict[str, Any]]) -> dict[str, Any]:
        return self._call("POST", "/feedback", {"labels": labels})

    def settle(self, store: Store, predicted: int, labelled: int, timeout: float = 5.0) -> None:
        """Wait (a while at most) until this database holds what the service was sent.

        A service on another database never shows up here: after `timeout` the replay
        carries on, and that service's own `monitor ingest` reduces its traffic.
        """
        deployment = self._call("GET", "/health")["deployment"]
        _wait_for_log(store, deployment, predicted, labelled, timeout, 0.05, fail=False)

    def follow(self, store: Store, ref: str, *, moved: bool, timeout: float = 10.0) -> None:
        """After a retrain, wait (a while at most) until the service answers with the alias's holder.

        The service follows its alias itself, every `follow_interval` seconds; traffic sent
        before it switched would still be the replaced version's. A pinned version, or a
        service on another database, has nothing to wait for: after `timeout` the replay
        carries on.
        """
        from core.registry.versions import alias_holder

        parsed = parse_ref(ref)
        name, alias = parsed.name, parsed.selector
        if not moved or alias is None or alias.isdigit():
            return
        holder = alias_holder(store, name, alias)
        deadline = time.monotonic() + timeout
        while holder is not None and self._call("GET", "/health")["version"] != holder.version:
            if time.monotonic() > deadline:
                return
            time.sleep(0.1)

    def close(self) -> None:
        self.client.close()


class _InProcess(_Service):
    """A `core.serving.service.Service` on the virtual clock, called through its ASGI app."""

    def __init__(self, db_path: Path, ref: str, clock: VirtualClock) -> None:
        import warnings

        with warnings.catch_warnings():  # starlette's notice about its httpx-based client is not for our users
            warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
            from fastapi.testclient import TestClient

        from core.serving.service import Service, create_app

        self.service = Service(db_path, ref, clock=clock)  # deployment, prediction and feedback times are virtual
        client = TestClient(create_app(self.service))
        client.__enter__()  # one event loop for the whole replay; leaving it shuts the service down
        super().__init__(client, f"in-process {ref}")

    def settle(self, store: Store, predicted: int, labelled: int, timeout: float = 60.0) -> None:
        """Wait until the log writer committed everything sent so far (polling the database)."""
        interval = float(self.service.settings["log_interval"]) / 4
        _wait_for_log(store, self.service.deployment_id, predicted, labelled, timeout, interval, fail=True)

    def follow(self, store: Store, ref: str, *, moved: bool) -> None:
        """Switch to the alias's holder now (every month: someone may have promoted by hand)."""
        self.service.check_alias(store)

    def close(self) -> None:
        self.client.__exit__(None, None, None)


def _wait_for_log(store: Store, deployment: int, predicted: int, labelled: int, timeout: float, interval: float,
                  *, fail: bool) -> None:
    """Poll the database until a deployment's log holds `predicted` rows and `labelled` labels."""
    deadline = time.monotonic() + timeout
    while True:
        rows = store.value("SELECT COALESCE(SUM(n_rows), 0) FROM prediction_batches WHERE deployment_id = ?", (deployment,))
        labels = store.value("SELECT COUNT(*) FROM feedback WHERE deployment_id = ?", (deployment,))
        if rows >= predicted and labels >= labelled:
            return
        if time.monotonic() > deadline:
            if fail:
                raise PitboardError(f"simulate: the prediction log wrote {rows} of {predicted} rows in {timeout:.0f} s")
            return
        time.sleep(interval)


def _remote(url: str, token: str | None) -> _Service:
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return _Service(httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=30.0), f"--url {url}")


def simulate(
    store: Store,
    ref: str,
    *,
    scenario: str = "recession",
    months: int = 12,
    rate: float = 200.0,
    feedback_delay: float = 3600.0,
    url: str | None = None,
    token: str | None = None,
    batch: int = 50,
    folder: Path = PRODUCTION,
    retrain_inline: bool = False,
    on_month: Callable[[MonthReport], None] | None = None,
    on_retrain: Callable[[MonthReport], None] | None = None,
) -> list[MonthReport]:
    """Replay `months` production months against `ref` (see the module docstring).

    `on_month` sees each month once its windows and alerts are written; `on_retrain` sees
    it again after a retrain that its alerts started (inline: finished; else: the job id).
    """
    from core.data.tabular import read_tabular
    from core.monitoring.alerts import opened_by
    from core.monitoring.ingest import ingest_log
    from core.monitoring.retraining import on_alerts
    from core.monitoring.settings import monitoring_settings

    if rate <= 0:
        raise PitboardError(f"--rate {rate}: must be positive")
    if feedback_delay < 0:
        raise PitboardError(f"--feedback-delay {feedback_delay}: cannot be negative")
    files = month_files(scenario, months, folder)
    model = parse_ref(ref).name
    grace = monitoring_settings(store, model)["grace_seconds"]
    first_day = math.ceil(store.clock() / DAY) * DAY
    clock = VirtualClock(first_day)
    own_clock = store.clock
    if url is None:
        store.clock = clock  # windows close, and audit rows are stamped, in virtual time
        target: Any = _InProcess(store.path, ref, clock)
    else:
        target = _remote(url, token)
    names = target.features()
    reports = []
    due: list[tuple[float, int, dict[str, Any]]] = []  # (time due, order, label) heap
    order = predicted = labelled = 0
    started = time.monotonic()
    try:
        for month, path in enumerate(files, start=1):
            frame = read_tabular(path)
            target_column = _label_column(frame)
            labels = frame[target_column].tolist()
            missing = [n for n in names if n not in frame.columns]
            if missing:
                raise PitboardError(f"{path}: lacks the model's features {', '.join(missing)}")
            records = _records(frame[names])
            report = MonthReport(month, len(records), 0, 0)
            day_start = first_day + (month - 1) * DAY
            month_start = max(day_start, clock.now)  # after the previous month's ingest: never back in time
            for first in range(0, len(records), batch):
                if url is None:
                    clock.now = month_start + first / rate
                else:
                    _wait_until(started, predicted / rate)  # real-time pacing: `predicted` rows are due by now
                response = target.predict(records[first:first + batch])
                predicted += len(response["predictions"])
                now = clock.now if url is None else time.monotonic() - started
                for prediction, label in zip(response["predictions"], labels[first:first + batch]):
                    heapq.heappush(due, (now + feedback_delay, order, {"id": prediction["id"], "label": _plain(label)}))
                    order += 1
                sent, unknown = _send_due(target, due, now)
                report.labels_sent += sent
                report.unknown_ids += unknown
            last_due = max((label[0] for label in due), default=0.0) if month == len(files) else 0.0
            if url is None:  # past the day's end and the grace period; after the last month, every label is due
                clock.now = max(day_start + DAY + grace + 1.0, last_due)
            else:
                _wait_until(started, last_due)
            sent, unknown = _send_due(target, due, clock.now if url is None else time.monotonic() - started)
            report.labels_sent += sent
            report.unknown_ids += unknown
            labelled += report.labels_sent - report.unknown_ids
            target.settle(store, predicted, labelled)
            for ingest in ingest_log(store, model):
                report.windows += ingest.windows
                report.alerts += [a for a in ingest.alerts if a not in report.alerts]
            report.drifted = _drifted(store, report.windows)
            report.opened = opened_by(store, report.alerts, report.windows)
            reports.append(report)
            if on_month is not None:
                on_month(report)
            report.retrain = on_alerts(store, model, report.alerts, inline=retrain_inline,
                                       at=clock.now if url is None else None)
            if report.retrain is not None:
                report.retrain_outcome = _retrain_outcome(store, report.retrain, inline=retrain_inline)
                if on_retrain is not None:
                    on_retrain(report)
            target.follow(store, ref, moved=report.retrain is not None)
    finally:
        target.close()
        store.clock = own_clock
    return reports


def _retrain_outcome(store: Store, started: int, *, inline: bool, timeout: float = 900.0) -> str:
    """How a retrain ended: the story pauses for it, as a team would wait for the job."""
    if inline:
        row = store.row("SELECT state, message FROM retrains WHERE id = ?", (started,))
        return f"{row['state']}: {row['message']}"
    deadline = time.monotonic() + timeout
    while (job := store.row("SELECT state, message, error FROM jobs WHERE id = ?", (started,)))["state"] in ("queued", "running"):
        if time.monotonic() > deadline:
            return f"job {started} still {job['state']} after {timeout:.0f} s"
        time.sleep(0.2)
    return f"job {started} {job['state']}: {job['error'] or job['message']}"


def _label_column(frame: Any) -> str:
    for name in ("default", "label", "target"):
        if name in frame.columns:
            return name
    raise PitboardError("production batch: no label column (default, label or target)")


def _records(frame: Any) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (missing values as null, dates as ISO text)."""
    from core.serving.predict import frame_columns

    columns = frame_columns(frame)
    names = list(columns)
    return [{name: _plain(columns[name][i]) for name in names} for i in range(len(frame))]


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def _send_due(target: Any, due: list[tuple[float, int, dict[str, Any]]], now: float) -> tuple[int, int]:
    """Send every label whose delay has passed; (sent, unknown ids)."""
    ready = []
    while due and due[0][0] <= now:
        ready.append(heapq.heappop(due)[2])
    if not ready:
        return 0, 0
    answer = target.feedback(ready)
    return len(ready), len(answer.get("unknown_ids", []))


def _wait_until(started: float, offset: float) -> None:
    """Over HTTP, in real time: wait until `offset` seconds after `started` (monotonic)."""
    ahead = started + offset - time.monotonic()
    if ahead > 0:
        time.sleep(ahead)


def _drifted(store: Store, window_ids: list[int]) -> list[str]:
    if not window_ids:
        return []
    marks = ", ".join("?" for _ in window_ids)
    return [r["feature"] for r in store.rows(
        f"SELECT DISTINCT feature FROM monitor_window_features WHERE window_id IN ({marks}) AND drifted = 1 ORDER BY feature",
        window_ids,
    )]
