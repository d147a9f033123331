"""Run records: write a run whole, read it back, list, compare, delete.

Runs are a flat list: every `pitboard train` makes one *search* (its spec, data version
and start time) and one run per candidate configuration, each carrying the `search_id`.
A flat list keeps filtering and sorting one query over `runs` (the way MLflow users
search), while the search id still groups a search's runs together.

A run is written by `record_run` in ONE transaction with its params, metrics, points,
curves, tags and model blob, and only once it is complete, as FINISHED or FAILED with its
error; a worker killed mid-search leaves only whole runs behind.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.experiments.run_filter import parse_filter, parse_sort
from core.experiments.specs import LOWER_IS_BETTER
from core.store.artifacts import put_blob
from core.store.database import Store
from core.store.errors import NotFound, PitboardError


@dataclass
class RunRecord:
    """Everything a finished or failed run records, before it has an id."""

    experiment_id: int
    search_id: int
    candidate: int
    config: dict[str, Any]
    status: str
    task: str
    estimator: str
    primary_metric: str
    dataset_version_id: int
    holdout_size: int
    seed: int
    started_at: float
    ended_at: float
    duration: float
    git_commit: str | None = None
    git_dirty: bool | None = None
    env: dict[str, Any] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    points: list[tuple[str, int, float]] = field(default_factory=list)
    curves: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    model: bytes | None = None
    signature: list[dict[str, Any]] = field(default_factory=list)
    classes: list[Any] | None = None
    feature_importance: list[dict[str, Any]] = field(default_factory=list)
    fairness: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class Run:
    """A run as stored (see core/store/migrations/0003_experiments.sql)."""

    id: int
    experiment: str
    search_id: int
    candidate: int
    config: dict[str, Any]
    status: str
    task: str
    estimator: str
    primary_metric: str
    metrics: dict[str, float]
    params: dict[str, str]
    tags: dict[str, str]
    dataset_version_id: int
    model_sha256: str | None
    signature: list[dict[str, Any]]
    classes: list[Any] | None
    feature_importance: list[dict[str, Any]]
    holdout_size: int
    spec_text: str
    git_commit: str | None
    git_dirty: bool | None
    env: dict[str, Any]
    seed: int
    started_at: float
    ended_at: float
    duration: float
    error: str | None
    deleted_at: float | None
    fairness: dict[str, Any] = field(default_factory=dict)  # per [fairness] attribute: groups, disparities

    @property
    def primary_value(self) -> float | None:
        """The value of the run's primary metric on the holdout."""
        return self.metrics.get(self.primary_metric)


def ensure_experiment(store: Store, name: str) -> int:
    """The id of experiment `name`, created if new (inside the caller's transaction)."""
    found = store.value("SELECT id FROM experiments WHERE name = ?", (name,))
    if found is not None:
        return int(found)
    with store.transaction():
        return int(store.conn.execute(
            "INSERT INTO experiments (name, created_at) VALUES (?, ?)", (name, store.clock())
        ).lastrowid)


def record_run(store: Store, record: RunRecord) -> int:
    """Write a complete run in one transaction; returns its id."""
    with store.transaction() as conn:
        sha = put_blob(store, record.model) if record.model is not None else None
        run_id = int(conn.execute(
            """INSERT INTO runs (experiment_id, search_id, candidate, config, status, task, estimator,
                   primary_metric, dataset_version_id, model_sha256, signature, classes, feature_importance,
                   holdout_size, git_commit, git_dirty, env, seed, started_at, ended_at, duration, error, fairness)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (record.experiment_id, record.search_id, record.candidate, json.dumps(record.config, default=str),
             record.status, record.task, record.estimator, record.primary_metric, record.dataset_version_id, sha,
             json.dumps(record.signature), json.dumps(record.classes, default=str) if record.classes is not None else None,
             json.dumps(record.feature_importance), record.holdout_size, record.git_commit,
             None if record.git_dirty is None else int(record.git_dirty), json.dumps(record.env, default=str),
             record.seed, record.started_at, record.ended_at, record.duration, record.error,
             json.dumps(record.fairness) if record.fairness else None),
        ).lastrowid)
        conn.executemany("INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)",
                         [(run_id, k, v) for k, v in record.params.items()])
        conn.executemany("INSERT INTO metrics (run_id, key, value) VALUES (?, ?, ?)",
                         [(run_id, k, v) for k, v in record.metrics.items()])
        conn.executemany("INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)",
                         [(run_id, k, v) for k, v in record.tags.items()])
        conn.executemany("INSERT INTO curves (run_id, name, x, y) VALUES (?, ?, ?, ?)",
                         [(run_id, name, json.dumps(x), json.dumps(y)) for name, (x, y) in record.curves.items()])
        log_points(store, run_id, record.points)
        store.audit("run.create", f"run {run_id}", {"status": record.status, "estimator": record.estimator})
    return run_id


def log_points(store: Store, run_id: int, points: Iterable[tuple[str, int, float]]) -> int:
    """Append (key, step, value) metric points to a run in one transaction; returns the count.

    One executemany in one transaction: the benchmark (benchmarks/logging.py) holds this
    to 100,000 points/s or more.
    """
    rows = [(run_id, key, step, value) for key, step, value in points]
    with store.transaction() as conn:
        conn.executemany("INSERT OR REPLACE INTO metric_points (run_id, key, step, value) VALUES (?, ?, ?, ?)", rows)
    return len(rows)


def _kv(store: Store, table: str, run_id: int) -> dict[str, Any]:
    return {row["key"]: row["value"] for row in store.rows(f"SELECT key, value FROM {table} WHERE run_id = ? ORDER BY key", (run_id,))}


def get_run(store: Store, run_id: int) -> Run:
    """Run `run_id` with its params, metrics and tags."""
    row = store.row(
        """SELECT runs.*, experiments.name AS experiment, searches.spec_text
           FROM runs JOIN experiments ON experiments.id = runs.experiment_id
           JOIN searches ON searches.id = runs.search_id WHERE runs.id = ?""",
        (run_id,),
    )
    if row is None:
        raise NotFound(f"run {run_id}: no such run")
    return Run(
        id=row["id"], experiment=row["experiment"], search_id=row["search_id"], candidate=row["candidate"],
        config=json.loads(row["config"]), status=row["status"], task=row["task"], estimator=row["estimator"],
        primary_metric=row["primary_metric"], metrics=_kv(store, "metrics", run_id),
        params=_kv(store, "params", run_id), tags=_kv(store, "tags", run_id),
        dataset_version_id=row["dataset_version_id"], model_sha256=row["model_sha256"],
        signature=json.loads(row["signature"]), classes=json.loads(row["classes"]) if row["classes"] else None,
        feature_importance=json.loads(row["feature_importance"]), holdout_size=row["holdout_size"],
        spec_text=row["spec_text"], git_commit=row["git_commit"],
        git_dirty=None if row["git_dirty"] is None else bool(row["git_dirty"]), env=json.loads(row["env"]),
        seed=row["seed"], started_at=row["started_at"], ended_at=row["ended_at"], duration=row["duration"],
        error=row["error"], deleted_at=row["deleted_at"],
        fairness=json.loads(row["fairness"]) if row["fairness"] else {},
    )


def metric_points(store: Store, run_id: int) -> dict[str, list[tuple[int, float]]]:
    """A run's series: key -> [(step, value), ...] in step order."""
    series: dict[str, list[tuple[int, float]]] = {}
    for row in store.rows("SELECT key, step, value FROM metric_points WHERE run_id = ? ORDER BY key, step", (run_id,)):
        series.setdefault(row["key"], []).append((row["step"], row["value"]))
    return series


def run_curves(store: Store, run_id: int) -> dict[str, dict[str, list[float]]]:
    """A classifier's ROC and precision-recall curves: name -> {x, y}."""
    return {row["name"]: {"x": json.loads(row["x"]), "y": json.loads(row["y"])}
            for row in store.rows("SELECT name, x, y FROM curves WHERE run_id = ?", (run_id,))}


def list_runs(
    store: Store,
    *,
    experiment: str | None = None,
    filter: str | None = None,
    sort: str | None = None,
    limit: int | None = None,
    include_deleted: bool = False,
) -> list[dict[str, Any]]:
    """Runs matching an MLflow-style filter, sorted (newest first unless `sort` says)."""
    where, params = [], []
    if not include_deleted:
        where.append("runs.deleted_at IS NULL")
    if experiment is not None:
        if store.value("SELECT 1 FROM experiments WHERE name = ?", (experiment,)) is None:
            known = [row["name"] for row in store.rows("SELECT name FROM experiments ORDER BY name")]
            raise NotFound(f"experiment {experiment!r}: no such experiment; known: {', '.join(known) or '(none)'}")
        where.append("experiments.name = ?")
        params.append(experiment)
    if filter:
        condition = parse_filter(filter)
        where.append(condition.sql)
        params.extend(condition.params)
    order = "runs.id DESC"
    if sort:
        expression, sort_params, descending = parse_sort(sort)
        order = f"{expression} IS NULL, {expression} {'DESC' if descending else 'ASC'}, runs.id"
        params.extend(sort_params * 2)
    if limit is not None and limit < 0:
        raise PitboardError(f"--limit {limit}: must be 0 or more")
    sql = (
        "SELECT runs.id, experiments.name AS experiment, runs.search_id, runs.status, runs.estimator,"
        " runs.primary_metric, runs.duration, runs.started_at, runs.deleted_at, runs.error"
        " FROM runs JOIN experiments ON experiments.id = runs.experiment_id"
        + (" WHERE " + " AND ".join(where) if where else "")
        + f" ORDER BY {order} LIMIT ?"
    )
    rows = store.rows(sql, [*params, -1 if limit is None else limit])
    result = []
    for row in rows:
        entry = dict(row)
        entry["metrics"] = _kv(store, "metrics", row["id"])
        entry["primary_value"] = entry["metrics"].get(row["primary_metric"])
        result.append(entry)
    return result


def experiments(store: Store) -> list[dict[str, Any]]:
    """Experiments with their run counts and best primary value, for listings."""
    rows = store.rows(
        """SELECT experiments.id, experiments.name, experiments.created_at,
                  count(runs.id) AS runs, sum(runs.status = 'FAILED') AS failed, max(runs.started_at) AS last_run
           FROM experiments LEFT JOIN runs ON runs.experiment_id = experiments.id AND runs.deleted_at IS NULL
           GROUP BY experiments.id ORDER BY experiments.name"""
    )
    return [dict(row) for row in rows]


def compare_runs(store: Store, run_ids: Sequence[int], *, all_params: bool = False) -> dict[str, Any]:
    """Params (differing first; identical ones only with `all_params`) and metrics with
    deltas against the first run."""
    if len(run_ids) < 2:
        raise PitboardError("runs compare: give at least two runs")
    runs = [get_run(store, run_id) for run_id in run_ids]
    keys = sorted(set().union(*(run.params for run in runs)))
    differing, identical = [], []
    for key in keys:
        values = [run.params.get(key) for run in runs]
        (differing if len(set(values)) > 1 else identical).append({"key": key, "values": values, "differs": len(set(values)) > 1})
    metric_keys = sorted(set().union(*(run.metrics for run in runs)), key=lambda k: (k.startswith("cv_"), k))
    metrics = []
    for key in metric_keys:
        values = [run.metrics.get(key) for run in runs]
        base = values[0]
        deltas = [None if base is None or v is None else v - base for v in values]
        metrics.append({"key": key, "values": values, "deltas": deltas, "lower_is_better": key in LOWER_IS_BETTER})
    return {
        "runs": [{"id": r.id, "experiment": r.experiment, "estimator": r.estimator, "status": r.status} for r in runs],
        "params": differing + (identical if all_params else []),
        "hidden_identical_params": 0 if all_params else len(identical),
        "metrics": metrics,
    }


def delete_runs(store: Store, run_ids: Sequence[int]) -> list[int]:
    """Soft-delete runs (hidden from listings; `pitboard gc` purges them)."""
    missing = [run_id for run_id in run_ids if store.value("SELECT 1 FROM runs WHERE id = ?", (run_id,)) is None]
    if missing:
        raise NotFound(f"run {missing[0]}: no such run; nothing was deleted")
    with store.transaction() as conn:
        for run_id in dict.fromkeys(run_ids):
            conn.execute("UPDATE runs SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL", (store.clock(), run_id))
            store.audit("run.delete", f"run {run_id}", {})
    return list(dict.fromkeys(run_ids))


def purge_deleted_runs(store: Store) -> dict[str, int]:
    """Remove soft-deleted runs for good, except those something else (a registered model
    version) still references. Their params, metrics and curves go with them (cascade);
    the model blobs are left to `core.store.artifacts.collect_garbage`, which runs after."""
    purged = kept = 0
    with store.transaction() as conn:
        for row in store.rows("SELECT id FROM runs WHERE deleted_at IS NOT NULL"):
            conn.execute("SAVEPOINT purge_run")
            try:
                conn.execute("DELETE FROM runs WHERE id = ?", (row["id"],))
            except sqlite3.IntegrityError:  # a foreign key (a model version) still points here
                conn.execute("ROLLBACK TO purge_run")
                kept += 1
            else:
                purged += 1
            conn.execute("RELEASE purge_run")
        if purged:
            store.audit("runs.purge", "runs", {"purged": purged, "kept": kept})
    return {"runs_purged": purged, "runs_kept_referenced": kept}
