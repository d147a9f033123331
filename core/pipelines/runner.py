"""Running a pipeline: each stage skipped when nothing it depends on changed, else run and recorded.

A stage's fingerprint is the SHA-256 of its kind, its settings, its inputs (see
`core.pipelines.stages`) and the code version (pitboard's version and a hash of its engine
source). A stage whose fingerprint matches an earlier successful run of the same stage of
the same pipeline, and whose outputs still exist, is skipped and hands on the outputs
recorded then. A failed stage stops the run: the stages after it are `not_run`, the run
is `failed` and a `pipeline.failed` event is written in the same transaction. The next
run resumes where it stopped, because every stage before the failure is cached.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from core.pipelines.spec import Pipeline, Stage
from core.pipelines.stages import KINDS
from core.store.database import Store
from core.store.errors import CheckFailed, PitboardError
from core.store.outbox import publish


@functools.cache
def code_version() -> str:
    """pitboard's version and the SHA-256 of its engine's source: what a stage's result depends on."""
    import core

    root = Path(core.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".sql") and "__pycache__" not in p.parts):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    try:
        version = metadata.version("pitboard")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return f"pitboard {version}, engine {digest.hexdigest()[:16]}"


def fingerprint(stage: Stage, inputs: dict[str, Any], code: str) -> str:
    text = json.dumps({"kind": stage.kind, "settings": stage.settings, "inputs": inputs, "code": code},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class StageResult:
    stage: str
    kind: str
    state: str  # ran, skipped, failed, not_run (a dry run: would_run, would_skip)
    reason: str = ""
    verdict: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    fingerprint: str | None = None
    duration: float | None = None
    error: BaseException | None = field(default=None, repr=False)


@dataclass
class PipelineResult:
    run_id: int | None
    pipeline: str
    state: str
    stages: list[StageResult]
    failed_stage: str | None = None
    error: PitboardError | None = None


def _cached(store: Store, pipeline: str, stage: str, fp: str) -> Any:
    return store.row(
        "SELECT s.run_id, s.outputs FROM pipeline_stages s JOIN pipeline_runs r ON r.id = s.run_id"
        " WHERE r.pipeline = ? AND s.stage = ? AND s.fingerprint = ? AND s.state IN ('ran', 'skipped')"
        " ORDER BY s.id DESC LIMIT 1", (pipeline, stage, fp))


def _why(store: Store, pipeline: str, stage: Stage, inputs: dict[str, Any], code: str) -> str:
    """Why a stage must run: it failed last time (a resumed run), or what changed since its last success."""
    attempt = store.row(
        "SELECT s.state, r.id FROM pipeline_stages s JOIN pipeline_runs r ON r.id = s.run_id"
        " WHERE r.pipeline = ? AND s.stage = ? AND s.state IN ('ran', 'skipped', 'failed') ORDER BY s.id DESC LIMIT 1",
        (pipeline, stage.name))
    if attempt is not None and attempt["state"] == "failed":
        return f"failed in pipeline run {attempt['id']}"
    last = store.row(
        "SELECT s.inputs, s.fingerprint, r.code_version, r.id FROM pipeline_stages s JOIN pipeline_runs r ON r.id = s.run_id"
        " WHERE r.pipeline = ? AND s.stage = ? AND s.state IN ('ran', 'skipped') ORDER BY s.id DESC LIMIT 1",
        (pipeline, stage.name))
    if last is None:
        return "never ran"
    before = json.loads(last["inputs"])
    changed = sorted(k for k in set(before) | set(inputs) if json.dumps(before.get(k), sort_keys=True, default=str)
                     != json.dumps(inputs.get(k), sort_keys=True, default=str))
    if changed:
        return f"changed since pipeline run {last['id']}: {', '.join(changed)}"
    if last["code_version"] != code:
        return f"code version changed since pipeline run {last['id']}"
    return f"settings changed since pipeline run {last['id']}"


def run_pipeline(store: Store, pipeline: Pipeline, *, force: Iterable[str] = (), dry_run: bool = False,
                 on_stage: Callable[[StageResult], None] = lambda result: None) -> PipelineResult:
    """Run (or, with `dry_run`, plan) every stage in order; see the module docstring."""
    forced = {pipeline.stage(name).name for name in force}
    code = code_version()
    run_id = None
    if not dry_run:
        with store.transaction():
            run_id = int(store.conn.execute(
                "INSERT INTO pipeline_runs (pipeline, path, spec_sha256, code_version, started_at) VALUES (?, ?, ?, ?, ?)",
                (pipeline.name, str(pipeline.path), pipeline.sha256, code, store.clock())).lastrowid)
            store.audit("pipeline.start", f"{pipeline.name} run {run_id}", {"path": str(pipeline.path)})
    results: dict[str, StageResult] = {}
    failure: tuple[str, BaseException] | None = None
    for position, stage in enumerate(pipeline.stages):
        result = _stage(store, pipeline, stage, results, forced, code, dry_run, failure is not None)
        if result.state == "failed":
            failure = (stage.name, result.error)
        results[stage.name] = result
        if run_id is not None:
            _record(store, run_id, position, result)
        on_stage(result)
    outcome = PipelineResult(run_id, pipeline.name, "failed" if failure else "passed", list(results.values()))
    if failure:
        outcome.failed_stage = failure[0]
    if run_id is not None:
        _finish(store, pipeline, run_id, outcome, failure)
    if failure and not isinstance(failure[1], PitboardError):
        raise failure[1]
    if failure:
        outcome.error = failure[1]
    return outcome


def _stage(store: Store, pipeline: Pipeline, stage: Stage, done: dict[str, StageResult], forced: set[str], code: str,
           dry_run: bool, stopped: bool) -> StageResult:
    kind = KINDS[stage.kind]
    result = StageResult(stage.name, stage.kind, "not_run")
    if stopped:
        result.reason = "an earlier stage failed"
        return result
    ancestors = pipeline.ancestors(stage)
    upstream: dict[str, Any] = {}
    for ancestor in reversed(ancestors):  # nearest last, so it wins
        upstream.update(done[ancestor.name].outputs)
    if dry_run and any(done[a.name].state == "would_run" for a in ancestors):
        result.state, result.reason = "would_run", "after a stage that runs"
        return result
    try:
        result.inputs = kind.inputs(store, stage, upstream)
        result.fingerprint = fingerprint(stage, result.inputs, code)
        cached = _cached(store, pipeline.name, stage.name, result.fingerprint)
        outputs = json.loads(cached["outputs"]) if cached else None
        if stage.name in forced:
            result.reason = "forced (--force)"
        elif cached and kind.outputs_exist(outputs):
            result.state = "would_skip" if dry_run else "skipped"
            result.reason, result.outputs = f"unchanged since pipeline run {cached['run_id']}", outputs
            return result
        else:
            result.reason = "its output is missing" if cached else _why(store, pipeline.name, stage, result.inputs, code)
        if dry_run:
            result.state = "would_run"
            return result
        started = time.perf_counter()
        try:
            result.outputs = kind.run(store, stage, upstream)
        finally:
            result.duration = round(time.perf_counter() - started, 3)
        result.state = "ran"
        result.verdict = str(result.outputs.get("verdict", "ok"))
    except Exception as exc:  # recorded, then raised again by run_pipeline if no user can fix it
        result.state = "failed"
        result.verdict = str(exc).splitlines()[0] if isinstance(exc, PitboardError) else f"{type(exc).__name__}: {exc}"
        result.error = exc
    return result


def _record(store: Store, run_id: int, position: int, result: StageResult) -> None:
    with store.transaction():
        store.conn.execute(
            "INSERT INTO pipeline_stages (run_id, position, stage, kind, state, fingerprint, inputs, outputs, reason,"
            " verdict, duration) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, position, result.stage, result.kind, result.state, result.fingerprint,
             json.dumps(result.inputs, sort_keys=True, default=str), json.dumps(result.outputs, sort_keys=True, default=str),
             result.reason, result.verdict[:2000], result.duration))


def _finish(store: Store, pipeline: Pipeline, run_id: int, outcome: PipelineResult,
            failure: tuple[str, BaseException] | None) -> None:
    from core.pipelines.report import pipeline_report

    with store.transaction():
        message = "" if failure is None else f"stage {failure[0]} failed: {_line(failure[1])}"
        store.conn.execute("UPDATE pipeline_runs SET state = ?, failed_stage = ?, message = ?, ended_at = ? WHERE id = ?",
                           (outcome.state, outcome.failed_stage, message, store.clock(), run_id))
        report = pipeline_report(store, run_id)
        store.conn.execute("UPDATE pipeline_runs SET report = ? WHERE id = ?", (json.dumps(report.to_dict()), run_id))
        store.audit(f"pipeline.{outcome.state}", f"{pipeline.name} run {run_id}", {"failed_stage": outcome.failed_stage})
        if failure is not None:
            severity = "warning" if isinstance(failure[1], CheckFailed) else "critical"
            publish(store, "pipeline.failed", f"pipeline {pipeline.name} run {run_id}: {message}", severity=severity,
                    details={"run": run_id, "stage": failure[0], "error": _line(failure[1])})


def _line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text if isinstance(exc, PitboardError) else f"{type(exc).__name__}: {text}"
