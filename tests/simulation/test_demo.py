"""`pitboard demo`: the whole story built by the real engine, once, and never built twice."""

from __future__ import annotations

import pytest

from core.store.clock import fixed_clock
from core.store.database import Store
from tests.conftest import T0

MODEL = "credit-risk"


def dump(store: Store) -> str:
    """Every row of the database, to compare before and after a rejected command."""
    return "\n".join(store.conn.iterdump())


@pytest.mark.slow
def test_demo_builds_the_story_once_through_the_real_command(pitboard_process, db_path):
    from core.monitoring.retraining import policy_for
    from core.registry.versions import alias_holder

    built = pitboard_process("demo", "--no-tui", timeout=300)
    assert built.returncode == 0, built.stderr
    lines = built.stdout.splitlines()
    assert lines[0] == "imported credit@1: 10,000 rows x 14 columns"
    assert lines[1].startswith("validated credit@1: 0 errors")
    assert lines[2].startswith("trained 6 runs, best roc_auc 0.")
    assert sum(line.startswith("month ") for line in lines) == 12
    assert lines[-1] == f"demo database ready: pitboard --db {db_path}"

    store = Store.open(db_path, clock=fixed_clock(T0))
    assert store.row("SELECT n_rows FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id"
                     " WHERE d.name = 'credit' AND v.version = 1")["n_rows"] == 10_000
    assert store.value("SELECT COUNT(*) FROM validation_reports WHERE ok = 1") >= 1
    first_search = store.rows("SELECT status FROM runs WHERE search_id = (SELECT MIN(id) FROM searches)")
    assert [r["status"] for r in first_search] == ["FINISHED"] * 6

    policy = policy_for(store, MODEL)  # the config is read back by the engine that acts on it
    assert policy["retrain_on"] == ["drift"] and policy["auto_promote"] is True

    windows = store.rows("SELECT w.id FROM monitor_windows w JOIN models m ON m.id = w.model_id WHERE m.name = ?"
                         " ORDER BY w.start", (MODEL,))
    assert len(windows) == 12
    drifted = [{r["feature"] for r in store.rows(
        "SELECT feature FROM monitor_window_features WHERE window_id = ? AND drifted = 1", (w["id"],))} for w in windows]
    assert drifted[:3] == [set(), set(), set()]  # three calm months before the recession
    assert {"income", "debt_to_income"} <= drifted[3]  # visible in the first recession month
    assert store.value("SELECT COUNT(*) FROM alerts WHERE kind = 'drift'") >= 1

    retrains = store.rows("SELECT state, challenger_version_id FROM retrains ORDER BY id")
    assert retrains, "no retrain was attempted"
    promoted = [r for r in retrains if r["state"] == "promoted"]
    assert promoted, [r["state"] for r in retrains]
    champion = alias_holder(store, MODEL, "champion")
    assert champion.version > 1 and champion.id == promoted[-1]["challenger_version_id"]

    actions = {r["action"] for r in store.rows("SELECT action FROM audit")}
    assert {"demo.start", "data.add", "data.validate", "train.start", "model.register", "model.promote",
            "demo.configure", "serve.start", "monitor.ingest", "alert.open", "retrain.start",
            "retrain.promoted"} <= actions
    audit_rows = store.value("SELECT COUNT(*) FROM audit")
    store.close()

    again = pitboard_process("demo", "--no-tui")
    assert again.returncode == 0, again.stderr
    assert "already built" in again.stdout
    with Store.open(db_path) as reopened:
        assert reopened.value("SELECT COUNT(*) FROM audit") == audit_rows


def test_demo_never_builds_into_or_deletes_a_database_holding_other_work(pitboard, store, db_path):
    with store.transaction():
        store.audit("data.add", "credit@1", {})
    before = dump(store)
    for args in (["--no-tui"], ["--no-tui", "--fresh"]):
        result = pitboard("demo", *args)
        assert result.exit_code == 2
        assert result.stderr.strip() == f"Error: {db_path}: holds other work, not a pitboard demo; use another --db " \
                                         "(make demo uses demo/pitboard.db)"
        assert dump(store) == before


def test_demo_leaves_an_existing_pitboard_toml_alone(pitboard, store, db_path):
    config = db_path.parent / "pitboard.toml"
    config.write_text("[serving]\nlog_interval = 1.0\n")
    before = dump(store)
    result = pitboard("demo", "--no-tui")
    assert result.exit_code == 2
    assert result.stderr.strip() == f"Error: {config}: already exists; the demo writes its own (use another --db folder)"
    assert config.read_text() == "[serving]\nlog_interval = 1.0\n"
    assert dump(store) == before


def test_fresh_removes_only_what_pitboard_made(pitboard, store, db_path):
    from core.simulation.demo import remove_demo

    with store.transaction():
        store.audit("demo.start", str(db_path), {})
    store.close()
    (db_path.parent / "pitboard.toml").write_text("")
    (db_path.parent / ".pitboard" / "jobs").mkdir(parents=True)
    keep = db_path.parent / "notes.txt"
    keep.write_text("mine")
    removed = remove_demo(db_path)
    assert db_path in removed and db_path.parent / ".pitboard" in removed
    assert sorted(p.name for p in db_path.parent.iterdir()) == ["notes.txt"]
