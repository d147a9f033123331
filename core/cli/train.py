"""`pitboard train SPEC`: run a spec's search in the foreground, or as a detached job."""

from __future__ import annotations

import sys

import click

from core.cli._output import emit, json_option
from core.store.errors import CheckFailed


@click.command("train")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--detach", is_flag=True, help="Run as a background job; print its id and return at once.")
@click.option("--cluster", metavar="tcp://HOST:8786", help="Run the search's fits on this Dask scheduler.")
@json_option
@click.pass_obj
def train(obj, spec: str, detach: bool, cluster: str | None, as_json: bool) -> None:
    """Train every candidate of SPEC (TOML) and record one run per configuration."""
    from core.experiments.specs import load_spec

    parsed = load_spec(spec)  # checked here, so a bad spec fails now and not in the worker
    if detach:
        from core.jobs.runner import start_job

        job_id = start_job(obj.store, "train", {"spec_text": parsed.text, "spec_source": parsed.source, "cluster": cluster},
                           title=f"train {parsed.source}")
        if as_json:
            emit({"job_id": job_id}, True)
        else:
            click.echo(f"started job {job_id}: follow it with `pitboard jobs show {job_id}`")
        return

    from core.experiments.runs import list_runs
    from core.experiments.training import train_spec

    live = sys.stderr.isatty()

    def progress(fraction: float, message: str) -> None:
        if live:
            click.echo(f"\r\x1b[2K[{fraction:4.0%}] {message}", err=True, nl=False)
        elif message.startswith("refit"):
            click.echo(f"[{fraction:4.0%}] {message}", err=True)

    result = train_spec(obj.store, parsed, progress=progress, cluster=cluster)
    if live:
        click.echo("", err=True)
    runs = list_runs(obj.store, filter=f"attributes.search_id = {result.search_id}", sort="attributes.id")
    rows = [{
        "run": run["id"], "estimator": run["estimator"], "status": run["status"],
        run["primary_metric"]: run["primary_value"],
        f"cv_{run['primary_metric']}": run["metrics"].get(f"cv_{run['primary_metric']}_mean"),
        "cv_std": run["metrics"].get(f"cv_{run['primary_metric']}_std"), "seconds": run["duration"],
    } for run in runs]
    if as_json:
        emit({"experiment": result.experiment, "search_id": result.search_id, "dataset": result.dataset,
              "best_run_id": result.best_run_id, "failed": result.failed, "runs": rows}, True)
    else:
        emit(rows, False)
        click.echo(f"\nexperiment {result.experiment}, search {result.search_id} on {result.dataset}: "
                   f"{len(runs)} runs, {result.failed} failed; best run {result.best_run_id}")
        for run in runs:
            if run["error"]:
                click.echo(f"run {run['id']} failed: {run['error']}")
    if result.failed == len(result.run_ids):
        raise CheckFailed(f"{parsed.source}: all {result.failed} runs failed")


COMMANDS = [train]
