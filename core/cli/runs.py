"""`pitboard runs`: list, show, compare, delete and reproduce runs."""

from __future__ import annotations

from typing import Any

import click

from core.cli._output import emit, format_value, json_option, table
from core.store.clock import iso
from core.store.errors import CheckFailed


@click.group("runs")
def runs() -> None:
    """Query and compare the runs of experiments."""


@runs.command("list")
@click.option("--experiment", "-e", help="Only runs of this experiment.")
@click.option("--filter", "filter_", metavar="EXPR", help="MLflow syntax, e.g. \"metrics.roc_auc > 0.8 and params.classifier = 'RandomForestClassifier'\".")
@click.option("--sort", metavar="KEY", help="e.g. -metrics.roc_auc (descending) or attributes.started_at.")
@click.option("--limit", type=int, help="Show at most N runs.")
@click.option("--deleted", is_flag=True, help="Include deleted runs.")
@json_option
@click.pass_obj
def list_(obj, experiment: str | None, filter_: str | None, sort: str | None, limit: int | None, deleted: bool, as_json: bool) -> None:
    """Runs, newest first unless --sort says otherwise."""
    from core.experiments.runs import list_runs

    found = list_runs(obj.store, experiment=experiment, filter=filter_, sort=sort, limit=limit, include_deleted=deleted)
    if as_json:
        emit(found, True)
        return
    rows = [{
        "run": run["id"], "experiment": run["experiment"], "search": run["search_id"], "status": run["status"],
        "estimator": run["estimator"], "metric": run["primary_metric"], "value": run["primary_value"],
        "cv_mean": run["metrics"].get(f"cv_{run['primary_metric']}_mean"), "seconds": run["duration"],
        **({"deleted": "deleted" if run["deleted_at"] else ""} if deleted else {}),
    } for run in found]
    emit(rows, False)
    if not rows:
        click.echo("no runs match")


@runs.command("show")
@click.argument("run_id", metavar="RUN", type=int)
@json_option
@click.pass_obj
def show(obj, run_id: int, as_json: bool) -> None:
    """Everything recorded about one run."""
    from dataclasses import asdict

    from core.experiments.runs import get_run, metric_points, run_curves

    run = get_run(obj.store, run_id)
    if as_json:
        emit({**asdict(run), "points": metric_points(obj.store, run_id), "curves": run_curves(obj.store, run_id)}, True)
        return
    emit({
        "run": run.id, "experiment": run.experiment, "search": run.search_id, "status": run.status,
        "deleted": iso(run.deleted_at) if run.deleted_at else None, "task": run.task, "estimator": run.estimator,
        "config": ", ".join(f"{k}={v}" for k, v in run.config.items()) or "(defaults)",
        run.primary_metric: run.primary_value, "dataset version": run.tags.get("dataset", run.dataset_version_id),
        "holdout rows": run.holdout_size, "seed": run.seed, "started": iso(run.started_at),
        "duration (s)": run.duration, "git commit": run.git_commit,
        "git dirty": run.git_dirty, "python": run.env.get("python"),
        "packages": ", ".join(f"{k} {v}" for k, v in run.env.get("packages", {}).items()),
        "model sha256": run.model_sha256, "classes": ", ".join(map(str, run.classes)) if run.classes else None,
        "error": run.error,
    }, False)
    _section("metrics", [{"metric": k, "value": v} for k, v in run.metrics.items()])
    _section("permutation importance (holdout)", run.feature_importance[:15])
    for attribute, report in run.fairness.items():
        _section(f"fairness by {attribute} (holdout; groups under {report['min_group_rows']} rows not judged)",
                 [{k: ("yes" if v else "NO (too few rows)") if k == "judged" else v for k, v in g.items()}
                  for g in report["groups"]])
        _section(f"disparities by {attribute}", [{"disparity": k, "value": v} for k, v in report["disparities"].items()])
    _section("input signature", [{**f, "categories": ", ".join(f["categories"] or [])[:40]} for f in run.signature])
    series = metric_points(obj.store, run_id)
    _section("metric series", [{"key": k, "points": len(v), "first": v[0][1], "last": v[-1][1]} for k, v in series.items()])


def _section(title: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        click.echo(f"\n{title}:")
        click.echo(table(rows))


@runs.command("compare")
@click.argument("run_ids", metavar="RUN RUN [RUN...]", type=int, nargs=-1, required=True)
@click.option("--all", "all_params", is_flag=True, help="Also show params that are the same in every run.")
@json_option
@click.pass_obj
def compare(obj, run_ids: tuple[int, ...], all_params: bool, as_json: bool) -> None:
    """Params that differ, and metrics side by side with deltas against the first run."""
    from core.experiments.runs import compare_runs

    found = compare_runs(obj.store, run_ids, all_params=all_params)
    if as_json:
        emit(found, True)
        return
    heads = [f"run {r['id']}" for r in found["runs"]]
    click.echo(table([{"": "estimator", **{h: r["estimator"] for h, r in zip(heads, found["runs"])}}], ["", *heads]))
    params = [{"param": p["key"], **dict(zip(heads, p["values"]))} for p in found["params"]]
    _section("params" + ("" if all_params else " that differ"), params)
    if found["hidden_identical_params"]:
        click.echo(f"({found['hidden_identical_params']} identical params hidden; --all shows them)")
    metrics = []
    for m in found["metrics"]:
        row = {"metric": m["key"], heads[0]: format_value(m["values"][0])}
        for head, value, delta in zip(heads[1:], m["values"][1:], m["deltas"][1:]):
            row[head] = "" if value is None else f"{format_value(value)} ({'+' if delta and delta > 0 else ''}{format_value(delta)})"
        metrics.append(row)
    _section(f"metrics (delta against run {found['runs'][0]['id']})", metrics)


@runs.command("delete")
@click.argument("run_ids", metavar="RUN...", type=int, nargs=-1, required=True)
@click.pass_obj
def delete(obj, run_ids: tuple[int, ...]) -> None:
    """Delete runs (hidden at once; `pitboard gc` reclaims their space)."""
    from core.experiments.runs import delete_runs

    deleted = delete_runs(obj.store, run_ids)
    click.echo(f"deleted run{'s' if len(deleted) > 1 else ''} {', '.join(map(str, deleted))}; `pitboard gc` reclaims the space")


@runs.command("reproduce")
@click.argument("run_id", metavar="RUN", type=int)
@json_option
@click.pass_obj
def reproduce(obj, run_id: int, as_json: bool) -> None:
    """Retrain RUN from its recorded spec, data version and seed; exit 1 if metrics differ."""
    from core.experiments.training import reproduce_run

    found = reproduce_run(obj.store, run_id)
    if as_json:
        emit(found, True)
    else:
        emit([{**m, "match": "same" if m["match"] else "DIFFERENT"} for m in found["metrics"]], False)
    if not found["match"]:
        differ = [m["metric"] for m in found["metrics"] if not m["match"]]
        raise CheckFailed(f"run {run_id}: reproduced metrics differ: {', '.join(differ)}")
    if not as_json:
        click.echo(f"run {run_id} reproduced: all {len(found['metrics'])} metrics match")


COMMANDS = [runs]
