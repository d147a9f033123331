"""Registering real runs and promoting them through gates (needs the training engine)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from core.experiments.runs import get_run
from core.experiments.training import holdout
from core.registry.gates import evaluate_gates, holdout_metric
from core.registry.versions import load_estimator, resolve


def dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


def test_register_keeps_lineage_and_the_runs_model_bytes(trained, reg, pitboard) -> None:
    done = pitboard("model", "register", trained.good_run, "--name", "credit-risk", "--json")
    assert done.exit_code == 0, done.stderr
    shown = json.loads(done.stdout)
    run = get_run(reg, trained.good_run)
    assert shown["version"] == 1 and shown["model_sha256"] == run.model_sha256
    assert shown["lineage"]["run"] == run.id and shown["lineage"]["dataset"] == "credit@1"
    assert shown["lineage"]["git_commit"] == run.git_commit
    assert [f["name"] for f in shown["signature"]] == [f["name"] for f in run.signature]


def test_a_failed_run_cannot_be_registered(trained, reg, pitboard) -> None:
    with reg.transaction():
        reg.conn.execute("UPDATE runs SET status = 'FAILED', error = 'boom' WHERE id = ?", (trained.weak_run,))
    before = dump(trained.db)
    done = pitboard("model", "register", trained.weak_run, "--name", "credit-risk")
    assert done.exit_code == 2 and "status is FAILED" in done.stderr
    assert dump(trained.db) == before


def test_the_good_run_passes_the_gates_and_the_weak_one_is_refused(trained, reg, pitboard) -> None:
    assert pitboard("model", "register", trained.good_run, "--name", "credit-risk").exit_code == 0
    assert pitboard("model", "register", trained.weak_run, "--name", "credit-risk").exit_code == 0
    first = pitboard("model", "promote", "credit-risk@1", "--to", "champion")
    assert first.exit_code == 0, first.stdout + first.stderr
    assert "training data validated" in first.stdout and "PASS" in first.stdout

    before = dump(trained.db)
    refused = pitboard("model", "promote", "credit-risk@2", "--json")
    assert refused.exit_code == 1
    result = json.loads(refused.stdout)
    beat = next(g for g in result["gates"] if g["name"].startswith("beats champion"))
    assert beat["verdict"] == "FAIL" and result["moved"] is None
    assert dump(trained.db) == before, "a refused promotion moves nothing and writes nothing"

    forced = pitboard("model", "promote", "credit-risk@2", "--force", "--reason", "incident 7 drill")
    assert forced.exit_code == 0
    assert resolve(reg, "credit-risk@champion").version == 2
    audit = reg.row("SELECT action, details FROM audit ORDER BY id DESC LIMIT 1")
    assert audit["action"] == "model.promote.forced" and json.loads(audit["details"])["reason"] == "incident 7 drill"
    assert pitboard("model", "rollback", "credit-risk").exit_code == 0
    assert resolve(reg, "credit-risk@champion").version == 1


def test_beat_gate_scores_both_models_on_the_candidates_holdout(trained, reg) -> None:
    from core.registry.versions import move_alias, register

    good = register(reg, trained.good_run, "credit-risk")
    weak = register(reg, trained.weak_run, "credit-risk")
    move_alias(reg, "credit-risk", "champion", weak, action="set")
    X, y = holdout(reg, get_run(reg, good.run_id))
    mine = holdout_metric(load_estimator(reg, good), good.info, X, y, "roc_auc")
    theirs = holdout_metric(load_estimator(reg, weak), weak.info, X, y, "roc_auc")
    assert mine == get_run(reg, good.run_id).metrics["roc_auc"], "same rows, same kernels as the run"
    gate = next(g for g in evaluate_gates(reg, good, "champion") if g.name.startswith("beats"))
    assert gate.passed == (mine > theirs) and gate.value == round(mine, 6)


def test_min_metric_policy_from_pitboard_toml(trained, reg, pitboard) -> None:
    (trained.db.parent / "pitboard.toml").write_text('[models.credit-risk]\nmin_metrics = {roc_auc = 0.999}\n')
    assert pitboard("model", "register", trained.good_run, "--name", "credit-risk").exit_code == 0
    done = pitboard("model", "promote", "credit-risk@1")
    assert done.exit_code == 1
    line = next(l for l in done.stdout.splitlines() if l.startswith("min roc_auc"))
    assert ">= 0.999" in line and "FAIL" in line
