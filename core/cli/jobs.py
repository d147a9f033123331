"""`pitboard jobs`: background jobs, their progress and logs; cancel one."""

from __future__ import annotations

import click

from core.cli._output import emit, json_option
from core.store.clock import iso


@click.group("jobs")
def jobs() -> None:
    """Background jobs (training started with --detach, packaging, retraining)."""


def _row(job: dict) -> dict:
    return {
        "job": job["id"], "kind": job["kind"], "state": job["state"], "progress": f"{job['progress']:.0%}",
        "message": (job["error"] or job["message"])[:60], "title": job["title"], "created": iso(job["created_at"]),
    }


@jobs.command("list")
@click.option("--limit", type=int, default=50, show_default=True, help="Show at most N jobs.")
@json_option
@click.pass_obj
def list_(obj, limit: int, as_json: bool) -> None:
    """Jobs, newest first."""
    from core.jobs.runner import list_jobs

    found = list_jobs(obj.store, limit=limit)
    emit(found if as_json else [_row(job) for job in found], as_json)
    if not found and not as_json:
        click.echo("no jobs")


@jobs.command("show")
@click.argument("job_id", metavar="ID", type=int)
@json_option
@click.pass_obj
def show(obj, job_id: int, as_json: bool) -> None:
    """One job with the tail of its log."""
    from core.jobs.runner import get_job

    job = get_job(obj.store, job_id)
    if as_json:
        emit(job, True)
        return
    emit({
        "job": job["id"], "kind": job["kind"], "title": job["title"], "state": job["state"],
        "progress": f"{job['progress']:.0%}", "message": job["message"], "error": job["error"],
        "pid": job["pid"], "host": job["host"], "created": iso(job["created_at"]), "started": iso(job["started_at"]),
        "ended": iso(job["ended_at"]), "heartbeat": iso(job["heartbeat"]), "log": job["log_path"],
        "result": ", ".join(f"{k}={v}" for k, v in (job["result"] or {}).items()) or None,
    }, False)
    if job["log_tail"]:
        click.echo("\nlog tail:")
        click.echo(job["log_tail"].rstrip("\n"))


@jobs.command("cancel")
@click.argument("job_id", metavar="ID", type=int)
@click.pass_obj
def cancel(obj, job_id: int) -> None:
    """Ask a running job to stop."""
    from core.jobs.runner import cancel_job

    job = cancel_job(obj.store, job_id)
    click.echo(f"job {job_id}: cancel requested (state {job['state']})")


COMMANDS = [jobs]
