"""`pitboard demo`: the whole story of pitboard on the sample data, built by the real engine.

A newcomer should see every pane alive within a minute, and see what pitboard really
does rather than a mock-up, so the demo database is made by the same calls the CLI makes:
import `sample_data/credit_train.csv`, validate it, train `sample_data/credit_spec.toml`,
register the best run as `credit-risk` v1, promote it to `champion` through its gates,
and write a `pitboard.toml` that turns on continuous training. Then the recession of
`sample_data/production/` is replayed (`core.simulation.simulate`) so windows arrive, income and
debt-to-income drift, an alert opens and a retrained challenger is promoted.

With the app, the replay is a detached `simulate` job paced at a few seconds per month,
so the Monitor pane changes while one watches; without it, it runs inline at full speed
so the database is complete when the command returns.

A demo database is marked by its first audit row (`demo.start`): the demo never builds
into, and `--fresh` never deletes, a database that holds anyone's real work.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.store.database import Store
from core.store.errors import CheckFailed, PitboardError

MODEL = "credit-risk"
DATASET = "credit"
SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"
MONTHS = 12
MONTH_SECONDS = 3.0  # real seconds per replayed month when someone is watching the app
RATE = 500.0  # rows per virtual second: a month's requests span a few virtual seconds
BATCH = 250  # rows per /predict request

# Continuous training for credit-risk, in the sections core.monitoring.retraining and core.serving.service read.
CONFIG = f"""# Written by `pitboard demo`: continuous training for the demo model.
[serving]
log_interval = 0.05  # flush the prediction log often, so the replay never waits long for it

[retraining.{MODEL}]
retrain_on = ["drift"]  # a drift alert starts a retrain job
auto_promote = true     # a challenger that wins on the latest labelled window becomes champion
"""

Say = Callable[[str], None]


def created_files(db_path: Path) -> list[Path]:
    """Every file pitboard makes for a database: the db, its WAL files, config and job logs."""
    return [db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm"), db_path.parent / "pitboard.toml",
            db_path.parent / ".pitboard"]


def check_owned(store: Store) -> bool:
    """Whether `store` holds the demo (True), nothing yet (False); refuse anyone's real work."""
    first = store.value("SELECT action FROM audit ORDER BY id LIMIT 1")
    if first is None:
        return False
    if first != "demo.start":
        raise PitboardError(f"{store.path}: holds other work, not a pitboard demo; use another --db "
                            "(make demo uses demo/pitboard.db)")
    return True


def is_built(store: Store) -> bool:
    """Whether the demo's model is registered (the build got past its main steps)."""
    return store.value("SELECT COUNT(*) FROM models WHERE name = ?", (MODEL,)) > 0


def remove_demo(db_path: Path) -> list[Path]:
    """Delete a demo database and the files pitboard made beside it; returns what it removed.

    A replay still running on it is cancelled first, so no worker goes on writing to a
    deleted file.
    """
    import shutil

    from core.jobs.runner import ACTIVE, cancel_job, list_jobs

    if db_path.exists():
        with Store.open(db_path) as store:
            check_owned(store)
            for job in list_jobs(store):
                if job["state"] in ACTIVE:
                    cancel_job(store, job["id"])
    removed = []
    for path in created_files(db_path):
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        else:
            continue
        removed.append(path)
    return removed


def build(store: Store, say: Say) -> None:
    """Import, validate, train, register, promote, configure: each step says one line."""
    from core.data.datasets import add_dataset
    from core.data.validation import validate
    from core.experiments.runs import get_run
    from core.experiments.specs import load_spec
    from core.experiments.training import train_spec
    from core.monitoring.promotion import promote
    from core.monitoring.references import ensure_reference, register

    if check_owned(store):
        raise PitboardError(f"{store.path}: a demo build was interrupted; run `pitboard demo --fresh`")
    config = store.config_path
    if config.exists():
        raise PitboardError(f"{config}: already exists; the demo writes its own (use another --db folder)")
    with store.transaction():
        store.audit("demo.start", str(store.path), {"model": MODEL})

    dv, _ = add_dataset(store, DATASET, SAMPLE_DATA / "credit_train.csv", target="default",
                        time_column="application_date", id_column="applicant_id")
    say(f"imported {dv.ref}: {dv.n_rows:,} rows x {dv.n_columns} columns")

    report = validate(store, dv)
    say(f"validated {dv.ref}: {len(report.errors)} errors, {len(report.warnings)} warnings, "
        f"{sum(c.passed for c in report.checks)} of {len(report.checks)} checks passed")
    if not report.ok:
        raise CheckFailed(f"{dv.ref}: the sample data failed validation ({report.errors[0].message})")

    result = train_spec(store, load_spec(SAMPLE_DATA / "credit_spec.toml"))
    if result.best_run_id is None:
        raise CheckFailed(f"{SAMPLE_DATA / 'credit_spec.toml'}: all {result.failed} runs failed")
    best = get_run(store, result.best_run_id)
    say(f"trained {len(result.run_ids)} runs, best {best.primary_metric} {best.primary_value:.3f} (run {best.id})")

    version = register(store, best.id, MODEL, description="credit default risk, built by pitboard demo")
    ensure_reference(store, version)  # profile the training data now, not on the first window
    say(f"registered {version.ref} from run {best.id}")

    promotion = promote(store, version.ref, "champion")
    if promotion.moved is None:
        failed = next(g for g in promotion.gates if not g.passed)
        raise CheckFailed(f"{version.ref}: gate {failed.name} failed ({failed.message})")
    say(f"promoted {version.ref} to champion: {len(promotion.gates)} gates passed")

    config.write_text(CONFIG, encoding="utf-8")
    with store.transaction():
        store.audit("demo.configure", str(config), {"retrain_on": ["drift"], "auto_promote": True})
    say(f"wrote {config}: retrain {MODEL} on drift, auto-promote the winner")


def replay(store: Store, *, month_seconds: float, retrain_inline: bool, say: Say,
           progress: Callable[[float, str], None] | None = None) -> list[Any]:
    """Replay the recession against the champion, at least `month_seconds` real seconds a month."""
    from core.monitoring.alerts import alert_count
    from core.simulation.simulate import simulate

    resumed = time.monotonic()

    def on_month(report: Any) -> None:
        nonlocal resumed
        line = (f"month {report.month:2d}: {report.rows} rows, {len(report.windows)} windows, "
                f"drifted: {', '.join(report.drifted) or 'none'}, {alert_count(report.alerts, report.opened)}")
        say(line)
        if progress is not None:
            progress(report.month / MONTHS, line)
        # Pacing for people watching, not waiting for an event: each month's replay and
        # this pause take about `month_seconds` together, so windows arrive at that pace.
        time.sleep(max(0.0, month_seconds - (time.monotonic() - resumed)))
        resumed = time.monotonic()

    def on_retrain(report: Any) -> None:
        say(f"          retrain {report.retrain}: {report.retrain_outcome}")

    return simulate(store, f"{MODEL}@champion", months=MONTHS, rate=RATE, batch=BATCH, retrain_inline=retrain_inline,
                    on_month=on_month, on_retrain=on_retrain)


def replay_job(store: Store, job: Any, *, month_seconds: float) -> dict[str, Any]:
    """The `simulate` job kind: the paced replay the app watches (see core.jobs.runner)."""
    reports = replay(store, month_seconds=month_seconds, retrain_inline=False, say=job.log, progress=job.progress)
    return {"months": len(reports), "alerts": sum(len(r.opened) for r in reports),
            "retrains": [r.retrain for r in reports if r.retrain is not None]}


def start_replay(store: Store, *, month_seconds: float = MONTH_SECONDS) -> int:
    """Start the paced replay as a detached job; returns its id."""
    from core.jobs.runner import start_job

    return start_job(store, "simulate", {"month_seconds": month_seconds},
                     title=f"simulate recession against {MODEL}@champion")
