"""`pitboard notify`: the events of the outbox, their deliveries, and sending them now."""

from __future__ import annotations

import click

from core.cli._output import emit, json_option
from core.store.clock import iso


@click.group("notify")
def notify() -> None:
    """Notifications: events (alerts, promotions, retrains, failures) sent to [notify.targets]."""


def _rows(events: list[dict]) -> list[dict]:
    rows = []
    for event in events:
        deliveries = event["deliveries"] or [{"target": "", "state": "", "attempts": None, "last_error": None}]
        for d in deliveries:
            rows.append({"event": event["id"], "time": iso(event["created_at"]), "kind": event["kind"],
                         "severity": event["severity"].upper(), "target": d["target"], "delivery": d["state"],
                         "tries": d["attempts"], "last error": (d["last_error"] or "")[:50],
                         "subject": event["subject"][:60]})
    return rows


@notify.command("list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000), help="Newest events shown.")
@click.option("--state", type=click.Choice(["pending", "delivered", "failed"]), help="Only events with a delivery in this state.")
@json_option
@click.pass_obj
def list_(obj, limit: int, state: str | None, as_json: bool) -> None:
    """Events newest first, one line per target with its delivery state; --json adds every try."""
    from core.notify.delivery import list_events

    events = list_events(obj.store, limit=limit, state=state)
    emit(events if as_json else _rows(events), as_json)
    if not events and not as_json:
        click.echo("no events")


@notify.command("flush")
@json_option
@click.pass_obj
def flush(obj, as_json: bool) -> None:
    """Deliver every event that is due now (one try each); exit 1 if a delivery failed for good."""
    from core.notify.delivery import flush as flush_outbox
    from core.notify.delivery import pending_count
    from core.notify.targets import load

    counts = flush_outbox(obj.store, load(obj.store))
    counts["pending"] = pending_count(obj.store)
    emit(counts if as_json else [counts], as_json)
    if counts["failed"]:
        click.get_current_context().exit(1)


@notify.command("test")
@click.argument("target")
@json_option
@click.pass_obj
def test(obj, target: str, as_json: bool) -> None:
    """Send a `test` event to TARGET now; exit 1 if it was not acknowledged (retried later like any event)."""
    from core.notify.delivery import send_test
    from core.notify.targets import load

    result = send_test(obj.store, load(obj.store), target)
    emit(result if as_json else [result], as_json)
    if result["state"] != "delivered":
        click.get_current_context().exit(1)


COMMANDS = [notify]
