"""Pipeline runs read back: the listing, one run with its stages, and its summary report."""

from __future__ import annotations

import json
from typing import Any

from core.reports.document import Report
from core.store.clock import iso
from core.store.database import Store
from core.store.errors import NotFound

STATE_WORDS = {"ran": "RAN", "skipped": "SKIPPED", "failed": "FAILED", "not_run": "NOT RUN"}


def list_runs(store: Store, *, pipeline: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Pipeline runs newest first, with how many stages ran, were skipped and failed."""
    rows = store.rows(
        "SELECT r.id, r.pipeline, r.state, r.failed_stage, r.message, r.started_at, r.ended_at,"
        " SUM(s.state = 'ran') AS ran, SUM(s.state = 'skipped') AS skipped, SUM(s.state = 'failed') AS failed"
        " FROM pipeline_runs r LEFT JOIN pipeline_stages s ON s.run_id = r.id"
        " WHERE ? IS NULL OR r.pipeline = ? GROUP BY r.id ORDER BY r.id DESC LIMIT ?", (pipeline, pipeline, limit))
    return [dict(r) for r in rows]


def get_run(store: Store, run_id: int) -> dict[str, Any]:
    """One run with every stage: inputs, outputs, why it ran or was skipped, its verdict and duration."""
    row = store.row("SELECT * FROM pipeline_runs WHERE id = ?", (run_id,))
    if row is None:
        raise NotFound(f"pipeline run {run_id}: no such run (see `pitboard pipeline list`)")
    run = {k: row[k] for k in row.keys() if k != "report"}
    run["stages"] = [{**dict(s), "inputs": json.loads(s["inputs"]), "outputs": json.loads(s["outputs"])}
                     for s in store.rows("SELECT * FROM pipeline_stages WHERE run_id = ? ORDER BY position", (run_id,))]
    return run


def pipeline_report(store: Store, run_id: int) -> Report:
    """The summary report of one pipeline run (also stored with the run when it ends)."""
    run = get_run(store, run_id)
    stages = run["stages"]
    count = {state: sum(s["state"] == state for s in stages) for state in STATE_WORDS}
    status = {"passed": "pass", "failed": "fail"}.get(run["state"], "info")
    report = Report("pipeline", str(run_id), f"Pipeline {run['pipeline']}: run {run_id}", status, store.clock(),
                    facts=run)
    report.summary = [
        f"{run['state']}: {count['ran']} stages ran, {count['skipped']} skipped (unchanged), {count['failed']} failed,"
        f" {count['not_run']} not run",
    ]
    if run["message"]:
        report.summary.append(run["message"])
    report.summary.append(f"{run['path']} ({run['spec_sha256'][:12]}), {run['code_version']},"
                          f" started {iso(run['started_at'])} UTC")
    report.table("Stages", ["stage", "kind", "state", "why", "verdict", "outputs", "seconds"],
                 [[s["stage"], s["kind"], STATE_WORDS[s["state"]], s["reason"], s["verdict"], _outputs(s["outputs"]),
                   s["duration"]] for s in stages])
    return report


def _outputs(outputs: dict[str, Any]) -> str:
    shown = {k: v for k, v in outputs.items() if k not in ("gates", "verdict") and not k.endswith("sha256")}
    return ", ".join(f"{k} {v}" for k, v in shown.items())
