"""`pitboard report`: Markdown for pull requests and terminals, JSON for programs."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("report")
@click.argument("kind", type=click.Choice(["validation", "run", "compare", "promotion", "model", "monitoring", "pipeline"]))
@click.argument("refs", metavar="REF...", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE instead of stdout.")
@click.option("--to", "alias", default="champion", show_default=True, help="promotion: the alias moved.")
@click.option("--since", help="monitoring: windows ending after this time (ISO 8601 or epoch seconds).")
@click.option("--until", help="monitoring: windows starting before this time.")
@click.pass_obj
def report(obj, kind: str, refs: tuple[str, ...], fmt: str, output: Path | None, alias: str, since: str | None,
           until: str | None) -> None:
    """A report on REF: `validation DATASET[@V]`, `run RUN`, `compare RUN RUN...`, `promotion NAME@V [--to A]`,
    `model NAME[@REF]` (its card), `monitoring NAME [--since T] [--until T]`, `pipeline RUN`.

    JSON follows core/reports/report.schema.json (`schema: "pitboard.report/1"`).
    """
    from core.reports.builders import build
    from core.reports.output import write_report

    if kind == "pipeline":  # pipelines sit above reports: their report is built there
        from core.pipelines.report import pipeline_report
        from core.reports.builders import single_ref

        found = pipeline_report(obj.store, int(single_ref(kind, refs, number=True)))
    else:
        found = build(obj.store, kind, refs, alias=alias, since=_time(since, "--since"), until=_time(until, "--until"))
    write_report(found, fmt, output)


def _time(text: str | None, option: str) -> float | None:
    from core.store.clock import parse_time
    from core.store.errors import PitboardError, shown

    if text is None:
        return None
    try:
        return parse_time(text)
    except (ValueError, OverflowError) as exc:
        raise PitboardError(f"{option} {shown(text)}: not a time; use ISO 8601 or epoch seconds") from exc


COMMANDS = [report]
