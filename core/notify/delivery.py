"""Delivering the outbox: fan-out to targets, claims, retries with backoff, history.

At least once: a delivery row stays `pending` until a target acknowledges it (2xx, or
exit status 0) and is tried again after a doubling wait until `max_attempts`, then
marked `failed` with its last error. Never twice at once: a worker takes a delivery with
a compare-and-swap on its claim columns (`UPDATE ... WHERE` the row is still due and
unclaimed), so two processes flushing the same database each get different rows. A claim
expires, so a worker killed mid-delivery leaves the row to be tried again. Every try is
kept in `delivery_attempts`. One slow or dead target delays only its own rows: each
delivery is one bounded try (the timeout) and failures are scheduled, not waited for.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import Any

from core.notify.senders import Outcome, send
from core.notify.targets import NotifySettings, Target
from core.store.database import Store
from core.store.errors import NotFound
from core.store.outbox import as_payload, publish

Sender = Callable[[Target, dict[str, Any], float], Outcome]
BATCH = 200


def worker_id() -> str:
    """Who holds a claim: host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def fan_out(store: Store, settings: NotifySettings) -> int:
    """Create the delivery rows of new events for every target that wants them; returns how many."""
    created = 0
    with store.transaction():
        for row in store.rows("SELECT * FROM outbox WHERE fanned_out = 0 ORDER BY id LIMIT ?", (BATCH * 5,)):
            for target in settings.targets.values():
                if target.wants(row["kind"], row["model"], row["severity"]):
                    created += store.conn.execute(
                        "INSERT OR IGNORE INTO deliveries (event_id, target, next_at) VALUES (?, ?, ?)",
                        (row["id"], target.name, row["created_at"]),
                    ).rowcount
            store.conn.execute("UPDATE outbox SET fanned_out = 1 WHERE id = ?", (row["id"],))
    return created


def claim(store: Store, delivery_id: int, who: str, lease: float) -> bool:
    """Take one due delivery for `lease` seconds; False if another worker has it or it is not due."""
    now = store.clock()
    with store.transaction():
        return store.conn.execute(
            "UPDATE deliveries SET claimed_by = ?, claimed_until = ? WHERE id = ? AND state = 'pending'"
            " AND next_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)",
            (who, now + lease, delivery_id, now, now),
        ).rowcount == 1


def record(store: Store, delivery_id: int, who: str, outcome: Outcome, settings: NotifySettings, *,
           give_up: bool = False) -> str:
    """Write a try's outcome and schedule the next one (none when `give_up`); returns the delivery's new state."""
    now = store.clock()
    with store.transaction():
        row = store.row("SELECT attempts, claimed_by FROM deliveries WHERE id = ?", (delivery_id,))
        if row is None or row["claimed_by"] != who:
            return "lost"  # the claim expired and another worker took the row
        attempts = row["attempts"] + 1
        store.conn.execute("INSERT INTO delivery_attempts (delivery_id, ts, ok, status, error) VALUES (?, ?, ?, ?, ?)",
                           (delivery_id, now, int(outcome.ok), outcome.status, outcome.error))
        if outcome.ok:
            state, next_at = "delivered", now
        elif give_up or attempts >= settings.max_attempts:
            state, next_at = "failed", now
        else:
            state, next_at = "pending", now + settings.backoff(attempts)
        store.conn.execute(
            "UPDATE deliveries SET state = ?, attempts = ?, next_at = ?, claimed_by = NULL, claimed_until = NULL,"
            " last_error = ?, delivered_at = ? WHERE id = ?",
            (state, attempts, next_at, outcome.error if not outcome.ok else None, now if outcome.ok else None,
             delivery_id),
        )
    return state


def flush(store: Store, settings: NotifySettings, *, sender: Sender = send, who: str | None = None) -> dict[str, int]:
    """Fan out new events, then try every delivery that is due now, once each."""
    who = who or worker_id()
    lease = settings.timeout_seconds * 3 + 60
    counts = {"new": fan_out(store, settings), "delivered": 0, "retrying": 0, "failed": 0}
    due = store.rows("SELECT d.id, d.target, d.event_id FROM deliveries d WHERE d.state = 'pending' AND d.next_at <= ?"
                     " AND (d.claimed_until IS NULL OR d.claimed_until <= ?) ORDER BY d.next_at, d.id LIMIT ?",
                     (store.clock(), store.clock(), BATCH))
    for row in due:
        if not claim(store, row["id"], who, lease):
            continue
        target = settings.targets.get(row["target"])
        event = as_payload(store.row("SELECT * FROM outbox WHERE id = ?", (row["event_id"],)))
        if target is None:
            outcome = Outcome(False, None, f"target {row['target']!r} is no longer in pitboard.toml")
            record(store, row["id"], who, outcome, settings, give_up=True)
            counts["failed"] += 1
            continue
        state = record(store, row["id"], who, sender(target, event, settings.timeout_seconds), settings)
        counts[{"delivered": "delivered", "pending": "retrying", "failed": "failed"}.get(state, "retrying")] += 1
    return counts


def send_test(store: Store, settings: NotifySettings, name: str, *, sender: Sender = send) -> dict[str, Any]:
    """Publish a `test` event for one target only and try it now; its history is kept like any other."""
    if name not in settings.targets:
        known = ", ".join(sorted(settings.targets)) or "none configured"
        raise NotFound(f"notify target {name!r}: not in [notify.targets] of {store.config_path} ({known})")
    with store.transaction():
        event_id = publish(store, "test", f"test notification from pitboard to {name}", details={"target": name})
        store.conn.execute("UPDATE outbox SET fanned_out = 1 WHERE id = ?", (event_id,))
        delivery_id = int(store.conn.execute(
            "INSERT INTO deliveries (event_id, target, next_at) VALUES (?, ?, ?)", (event_id, name, store.clock()),
        ).lastrowid)
    who = worker_id()
    claim(store, delivery_id, who, settings.timeout_seconds * 3 + 60)
    event = as_payload(store.row("SELECT * FROM outbox WHERE id = ?", (event_id,)))
    outcome = sender(settings.targets[name], event, settings.timeout_seconds)
    state = record(store, delivery_id, who, outcome, settings)
    return {"target": name, "event": event_id, "state": state, "status": outcome.status, "error": outcome.error}


def list_events(store: Store, *, limit: int = 50, state: str | None = None) -> list[dict[str, Any]]:
    """Events newest first, each with its deliveries and their tries."""
    events = [as_payload(r) for r in store.rows("SELECT * FROM outbox ORDER BY id DESC LIMIT ?", (limit,))]
    for event in events:
        event["deliveries"] = [
            {**dict(d), "history": [dict(a) for a in store.rows(
                "SELECT ts, ok, status, error FROM delivery_attempts WHERE delivery_id = ? ORDER BY id", (d["id"],))]}
            for d in store.rows("SELECT id, target, state, attempts, next_at, last_error, delivered_at FROM deliveries"
                                " WHERE event_id = ? ORDER BY target", (event["id"],))
        ]
    if state is not None:
        events = [e for e in events if any(d["state"] == state for d in e["deliveries"])]
    return events


def pending_count(store: Store) -> int:
    """Deliveries still to be made (for status lines)."""
    return int(store.value("SELECT COUNT(*) FROM deliveries WHERE state = 'pending'"))

