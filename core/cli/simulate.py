"""`pitboard simulate`: replay production months against a model, labels and all."""

from __future__ import annotations

import click

from core.cli._output import emit, json_option


@click.command("simulate")
@click.argument("model_ref", metavar="NAME@ALIAS")
@click.option("--scenario", default="recession", show_default=True, help="Which production batches to replay.")
@click.option("--months", default=12, show_default=True, type=int, help="Replay months 1..K.")
@click.option("--rate", default=200.0, show_default=True, type=float, help="Rows per second (virtual time in-process).")
@click.option("--feedback-delay", default=3600.0, show_default=True, type=float, help="Seconds before labels are sent back.")
@click.option("--url", help="A running `pitboard serve` (else in-process, one virtual day per month).")
@click.option("--token", envvar="PITBOARD_TOKEN", help="Bearer token of the service at --url.")
@click.option("--batch", default=50, show_default=True, type=click.IntRange(1, 1000), help="Rows per request.")
@json_option
@click.pass_obj
def simulate(obj, model_ref: str, scenario: str, months: int, rate: float, feedback_delay: float, url: str | None,
             token: str | None, batch: int, as_json: bool) -> None:
    """Replay sample production months so drift, alerts and retraining unfold live."""
    from core.monitoring.alerts import alert_count
    from core.simulation.simulate import simulate as run

    def show(report) -> None:
        if not as_json:
            click.echo(f"month {report.month:2d}: {report.rows} rows, {report.labels_sent} labels"
                       f"{f' ({report.unknown_ids} unknown ids)' if report.unknown_ids else ''}, "
                       f"{len(report.windows)} windows, drifted: {', '.join(report.drifted) or 'none'}, "
                       f"{alert_count(report.alerts, report.opened)}")

    def retraining(report) -> None:
        if not as_json:
            click.echo(f"          retraining (job {report.retrain}) -> {report.retrain_outcome}")

    reports = run(obj.store, model_ref, scenario=scenario, months=months, rate=rate, feedback_delay=feedback_delay,
                  url=url, token=token, batch=batch, on_month=show, on_retrain=retraining)
    if as_json:
        emit([r.to_dict() for r in reports], True)


COMMANDS = [simulate]
