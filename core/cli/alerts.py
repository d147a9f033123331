"""`pitboard alerts`: list, acknowledge and resolve monitoring alerts."""

from __future__ import annotations

import click

from core.cli._output import emit, json_option
from core.store.clock import iso


@click.group("alerts")
def alerts() -> None:
    """Monitoring alerts: open -> acknowledged -> resolved."""


def _row(alert: dict) -> dict:
    from core.monitoring.alerts import window_span

    return {"alert": alert["id"], "model": f"{alert['model']}@{alert['version']}", "severity": alert["severity"].upper(),
            "state": alert["state"], "rule": alert["rule"], "windows": window_span(alert),
            "opened": iso(alert["opened_at"]), "message": alert["message"][:60]}


@alerts.command("list")
@click.option("--model", help="Only this model's alerts.")
@click.option("--all", "all_states", is_flag=True, help="Include resolved alerts.")
@json_option
@click.pass_obj
def list_(obj, model: str | None, all_states: bool, as_json: bool) -> None:
    """Open and acknowledged alerts (with --all, resolved ones too), newest first."""
    from core.monitoring.alerts import STATES, list_alerts

    found = list_alerts(obj.store, model=model, states=STATES if all_states else ("open", "acknowledged"))
    emit(found if as_json else [_row(a) for a in found], as_json)
    if not found and not as_json:
        click.echo("no alerts")


@alerts.command("ack")
@click.argument("alert_id", metavar="ID", type=int)
@click.option("--note", default="", help="Why, or who is on it (audited).")
@json_option
@click.pass_obj
def ack(obj, alert_id: int, note: str, as_json: bool) -> None:
    """Acknowledge an open alert (it still counts in `monitor status`)."""
    from core.monitoring.alerts import acknowledge

    found = acknowledge(obj.store, alert_id, note=note)
    emit(found if as_json else _row(found), as_json)


@alerts.command("resolve")
@click.argument("alert_id", metavar="ID", type=int)
@click.option("--note", default="", help="How it was resolved (audited).")
@json_option
@click.pass_obj
def resolve(obj, alert_id: int, note: str, as_json: bool) -> None:
    """Resolve an open or acknowledged alert by hand."""
    from core.monitoring.alerts import resolve as resolve_alert

    found = resolve_alert(obj.store, alert_id, note=note)
    emit(found if as_json else _row(found), as_json)


COMMANDS = [alerts]
