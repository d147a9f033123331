"""The issue's "done when": a served champion, a recession, an alert, a retrain, a promotion."""

from __future__ import annotations

import json

import pytest

from core.monitoring.retraining import list_retrains
from core.monitoring.status import status
from core.simulation.simulate import simulate
from tests.monitoring.conftest import MODEL, PRODUCTION

pytestmark = pytest.mark.slow

POLICY = """
[serving]
log_interval = 0.02

# Latency is wall-clock time: on a loaded CI machine it can cross any realistic limit. This
# test is about drift and retraining; latency alerts have their own tests.
[alerts]
max_latency_p99_ms = 600000.0

[retraining]
retrain_on = ["drift"]
auto_promote = true
windows = 3
"""


def test_a_recession_is_detected_retrained_for_and_promoted_away(served, pitboard):
    (served.db.parent / "pitboard.toml").write_text(POLICY)
    store = served.open()
    seen: list[dict] = []

    def cli_status() -> int:
        return pitboard("monitor", "status", MODEL, "--json", db=served.db).exit_code

    def on_month(report) -> None:
        seen.append({"month": report.month, "drifted": report.drifted, "alerts": list(report.alerts),
                     "exit": cli_status(), "state": status(store, MODEL)["state"]})

    def on_retrain(report) -> None:
        seen[-1]["retrain"] = report.retrain
        seen[-1]["exit_after_retrain"] = cli_status()

    simulate(store, f"{MODEL}@champion", months=7, rate=500.0, feedback_delay=3600.0, batch=250,
             retrain_inline=True, folder=PRODUCTION, on_month=on_month, on_retrain=on_retrain)

    calm = [m for m in seen if m["month"] <= 3]
    assert all(m["drifted"] == [] and m["alerts"] == [] and m["exit"] == 0 for m in calm), calm
    first = next(m for m in seen if m["drifted"])
    # The recession starts in month 4: its first window already shows income and debt.
    assert first["month"] == 4 and {"income", "debt_to_income"} <= set(first["drifted"]), first
    assert first["alerts"] and first["exit"] == 2 and first["state"] == "alert"

    # Drift persists after the promotion, but the cooldown spaces retrains 3 windows apart.
    assert [m["month"] for m in seen if "retrain" in m] == [4, 7], seen
    skipped = [r["details"] for r in store.rows("SELECT details FROM audit WHERE action = 'retrain.skip' ORDER BY id")]
    assert skipped and all(json.loads(d)["windows_since_last"] < 3 for d in skipped), skipped

    retrains = list_retrains(store, MODEL)
    promoted = sorted((r for r in retrains if r["state"] == "promoted"), key=lambda r: r["id"])
    assert promoted, retrains
    winner = promoted[0]
    assert winner["challenger_score"] > winner["champion_score"] and winner["champion"] == 1
    month_of_promotion = next(m for m in seen if m.get("retrain") == winner["id"])
    assert month_of_promotion["exit_after_retrain"] == 0  # the replaced champion's alerts are resolved

    from core.registry.versions import alias_holder

    assert alias_holder(store, MODEL, "champion").version == promoted[-1]["challenger"]
    # Once labelled production windows exist, "beat the champion" is judged on the newest one.
    gates = json.loads(store.value(
        "SELECT h.gates FROM alias_history h JOIN models m ON m.id = h.model_id"
        " WHERE m.name = ? AND h.alias = 'champion' AND h.gates != '[]' ORDER BY h.id DESC LIMIT 1", (MODEL,)))
    beat = next(g for g in gates if g["name"].startswith("beats champion"))
    assert beat["name"] == f"beats champion on window {promoted[-1]['eval_window_id']} roc_auc" and beat["passed"]
    actions = {r["action"] for r in store.rows("SELECT action FROM audit")}
    assert {"serve.start", "monitor.ingest", "alert.open", "retrain.start", "retrain.data", "train.start",
            "model.register", "model.set", "retrain.evaluate", "model.promote", "retrain.promoted",
            "alert.resolve"} <= actions
    # The same facts reach the outbox, each in its change's transaction (see tests/notify).
    kinds = {r[0] for r in store.rows("SELECT kind FROM outbox WHERE model = ?", (MODEL,))}
    assert {"alert.opened", "retrain.finished", "promotion", "alert.resolved"} <= kinds
    finished = [json.loads(r[0]) for r in store.rows("SELECT details FROM outbox WHERE kind = 'retrain.finished' ORDER BY id")]
    assert [d["retrain"] for d in finished] == sorted(r["id"] for r in retrains)


def test_simulate_through_the_cli_prints_each_month(served, pitboard):
    (served.db.parent / "pitboard.toml").write_text("[serving]\nlog_interval = 0.02\n")
    result = pitboard("simulate", f"{MODEL}@champion", "--months", "2", "--rate", "1000", "--batch", "500", "--json")
    assert result.exit_code == 0, result.stderr
    months = json.loads(result.stdout)
    assert [m["month"] for m in months] == [1, 2]
    assert all(m["rows"] == m["labels_sent"] > 1000 and len(m["windows"]) == 1 for m in months)
    bad = pitboard("simulate", f"{MODEL}@champion", "--scenario", "boom")
    assert bad.exit_code == 2 and "--scenario 'boom': unknown; valid: recession" in bad.stderr


def test_retrain_as_a_detached_job_records_its_failure(served, pitboard):
    import time

    result = pitboard("retrain", MODEL, "--detach", "--json")
    assert result.exit_code == 0, result.stderr
    job_id = json.loads(result.stdout)["job"]
    store = served.open()
    deadline = time.monotonic() + 60
    while store.value("SELECT state FROM jobs WHERE id = ?", (job_id,)) in ("queued", "running"):
        assert time.monotonic() < deadline, "the retrain job did not end"
        time.sleep(0.1)
    job = store.row("SELECT state, error FROM jobs WHERE id = ?", (job_id,))
    assert job["state"] == "failed" and "labelled windows" in job["error"]
    assert store.value("SELECT state FROM retrains WHERE job_id = ?", (job_id,)) == "failed"
