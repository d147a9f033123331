"""`pitboard pipeline`: run a pipeline file's stages, cached by their inputs, and read past runs back."""

from __future__ import annotations

from pathlib import Path

import click

from core.cli._output import emit, json_option
from core.store.clock import iso


@click.group("pipeline")
def pipeline() -> None:
    """Pipelines: data add, validate, train, register, gate, package, promote, chained and cached."""


@pipeline.command("run")
@click.argument("path", default="pipeline.toml", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", "force", multiple=True, metavar="STAGE", help="Run STAGE even if nothing it reads changed.")
@click.option("--dry-run", is_flag=True, help="Print what would run and why; change nothing.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the run's summary report to FILE.")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True,
              help="The report file's format.")
@click.pass_obj
def run(obj, path: Path, force: tuple[str, ...], dry_run: bool, report_path: Path | None, fmt: str) -> None:
    """Run every stage of PATH in order; exit 1 when a check or gate fails, 2 on bad input."""
    from core.pipelines.runner import run_pipeline
    from core.pipelines.spec import load_pipeline
    from core.store.errors import CheckFailed, PitboardError

    spec = load_pipeline(path)
    words = {"ran": "RAN", "skipped": "SKIPPED", "failed": "FAILED", "not_run": "NOT RUN",
             "would_run": "WOULD RUN", "would_skip": "WOULD SKIP"}

    def show(result) -> None:  # type: ignore[no-untyped-def]
        took = f" ({result.duration:.1f} s)" if result.duration is not None else ""
        verdict = f": {result.verdict}" if result.state == "failed" else ""
        click.echo(f"{result.stage:<12} {words[result.state]:<10} {result.reason}{verdict}{took}")

    outcome = run_pipeline(obj.store, spec, force=force, dry_run=dry_run, on_stage=show)
    if dry_run:
        return
    click.echo(f"pipeline {spec.name} run {outcome.run_id}: {outcome.state}")
    if report_path is not None:
        from core.pipelines.report import pipeline_report
        from core.reports.output import write_report

        write_report(pipeline_report(obj.store, outcome.run_id), fmt, report_path)
    if outcome.error is not None:
        line = f"pipeline {spec.name}: stage {outcome.failed_stage} failed: {str(outcome.error).splitlines()[0]}"
        raise CheckFailed(line) if isinstance(outcome.error, CheckFailed) else PitboardError(line)


@pipeline.command("list")
@click.option("--pipeline", "name", help="Only the runs of this pipeline.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@json_option
@click.pass_obj
def list_(obj, name: str | None, limit: int, as_json: bool) -> None:
    """Pipeline runs, newest first."""
    from core.pipelines.report import list_runs

    runs = list_runs(obj.store, pipeline=name, limit=limit)
    emit(runs if as_json else [{"run": r["id"], "pipeline": r["pipeline"], "state": r["state"].upper(),
                                "ran": r["ran"], "skipped": r["skipped"], "failed": r["failed"],
                                "started": iso(r["started_at"]), "message": (r["message"] or "")[:60]} for r in runs],
         as_json)
    if not runs and not as_json:
        click.echo("no pipeline runs")


@pipeline.command("show")
@click.argument("run_id", metavar="RUN", type=int)
@json_option
@click.pass_obj
def show_(obj, run_id: int, as_json: bool) -> None:
    """One run: every stage with its inputs, outputs, why it ran or was skipped, verdict and duration."""
    from core.pipelines.report import get_run, pipeline_report
    from core.reports.markdown import render

    if as_json:
        emit(get_run(obj.store, run_id), True)
    else:
        click.echo(render(pipeline_report(obj.store, run_id)), nl=False)


COMMANDS = [pipeline]
