"""Events for people, written to the outbox in the transaction that made them happen.

Alerts, promotions, retrains and jobs live in low stages; notifying someone (HTTP, Slack,
a local command) is done much higher up, by `core.notify`. The outbox joins the two
without an upward import: the stage that changes something calls `publish` inside its own
transaction, so an event exists exactly when its change committed, and the delivery
worker reads the table later. Each event gets an idempotency key that receivers can use
to drop a repeated delivery (delivery is at least once).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from core.store.database import Store

SEVERITIES = ("info", "warning", "critical")

# Every kind of event, with the severity it has unless the caller says otherwise (an
# alert's event carries the alert's own severity).
KINDS = {
    "alert.opened": "warning",
    "alert.escalated": "critical",
    "alert.resolved": "info",
    "promotion": "info",
    "rollback": "warning",
    "retrain.finished": "info",
    "retrain.failed": "critical",
    "job.failed": "warning",
    "pipeline.failed": "critical",
    "test": "info",
}


def severity_rank(severity: str) -> int:
    """info < warning < critical, for minimum-severity filters and escalation."""
    return SEVERITIES.index(severity)


def publish(store: Store, kind: str, subject: str, *, model: str | None = None, severity: str | None = None,
            details: dict[str, Any] | None = None) -> int:
    """Write one event to the outbox; must run inside the transaction of the change it reports."""
    if not store.in_transaction:
        raise RuntimeError("publish() must be called inside store.transaction()")
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    severity = severity or KINDS[kind]
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r}")
    cursor = store.conn.execute(
        "INSERT INTO outbox (key, kind, severity, model, subject, details, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (uuid.uuid4().hex, kind, severity, model, subject, json.dumps(details or {}, sort_keys=True, default=str),
         store.clock()),
    )
    return int(cursor.lastrowid)


def event(store: Store, event_id: int) -> dict[str, Any] | None:
    """One event as it is sent to receivers: the JSON body of every delivery of it."""
    row = store.row("SELECT * FROM outbox WHERE id = ?", (event_id,))
    return None if row is None else as_payload(row)


def as_payload(row: Any) -> dict[str, Any]:
    """An outbox row as the event's JSON body."""
    return {"id": row["id"], "key": row["key"], "kind": row["kind"], "severity": row["severity"],
            "model": row["model"], "subject": row["subject"], "created_at": row["created_at"],
            "details": json.loads(row["details"])}
