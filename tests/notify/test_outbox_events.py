"""Engine actions write their events to the outbox in their own transaction, and the CLI shows them."""

from __future__ import annotations

import json
import sys

import pytest

from core.registry.versions import add_version, move_alias, rollback
from core.store.artifacts import put_blob
from core.store.clock import fixed_clock
from core.store.database import Store
from core.store.outbox import publish
from tests.conftest import T0


def _versions(store: Store, name: str = "credit-risk", n: int = 2) -> list:
    sha = put_blob(store, b"not a model: the registry does not load it here")
    return [add_version(store, name, run_id=None, sha256=sha, source="test", info={}) for _ in range(n)]


def events(store: Store) -> list[tuple[str, str, str | None, str]]:
    return [tuple(r) for r in store.rows("SELECT kind, severity, model, subject FROM outbox ORDER BY id")]


def test_promotion_and_rollback_are_events(store) -> None:
    v1, v2 = _versions(store)
    move_alias(store, "credit-risk", "champion", v1, action="set")
    move_alias(store, "credit-risk", "champion", v2, action="promote", reason="gates passed")
    rollback(store, "credit-risk", reason="v2 misbehaves")
    assert events(store) == [
        ("promotion", "info", "credit-risk", "credit-risk@champion promoted to v2 (was v1)"),
        ("rollback", "warning", "credit-risk", "credit-risk@champion rolled back to v1 (was v2)"),
    ]


def test_an_event_is_rolled_back_with_its_change(store) -> None:
    v1, v2 = _versions(store)
    with pytest.raises(RuntimeError, match="after the move"), store.transaction():
        move_alias(store, "credit-risk", "champion", v2, action="promote")
        raise RuntimeError("a failure after the move")
    assert events(store) == []
    assert store.value("SELECT COUNT(*) FROM model_aliases") == 0


def test_publish_outside_a_transaction_is_a_programming_error(store) -> None:
    with pytest.raises(RuntimeError, match="inside store.transaction"):
        publish(store, "promotion", "x")


def test_a_failed_job_is_an_event(db_path) -> None:
    from core.jobs.runner import run_job

    store = Store.open(db_path, clock=fixed_clock(T0))
    with store.transaction():  # a queued job whose kind fails at once: no worker process needed
        job_id = int(store.conn.execute(
            "INSERT INTO jobs (kind, title, args, created_at) VALUES ('retrain', 'retrain nobody', ?, ?)",
            (json.dumps({"model": "nobody"}), T0)).lastrowid)
    assert run_job(store, job_id) == "failed"
    ((kind, severity, model, subject),) = events(store)
    assert (kind, severity, model) == ("job.failed", "warning", None)
    assert subject.startswith(f"job {job_id} (retrain nobody) failed: ")
    store.close()


def test_notify_test_list_and_flush_through_the_cli(pitboard, db_path, tmp_path) -> None:
    seen = tmp_path / "seen.json"
    script = f"import sys; open({str(seen)!r}, 'wb').write(sys.stdin.buffer.read())"
    (db_path.parent / "pitboard.toml").write_text(
        f"[notify.targets.local]\ntype = \"exec\"\ncommand = {json.dumps([sys.executable, '-c', script])}\n"
        "[notify.targets.broken]\ntype = \"exec\"\ncommand = [\"false\"]\n", encoding="utf-8")
    sent = pitboard("notify", "test", "local", "--json")
    assert sent.exit_code == 0, sent.stderr
    assert json.loads(sent.stdout) == {"target": "local", "event": 1, "state": "delivered", "status": 0, "error": None}
    assert json.loads(seen.read_text())["subject"] == "test notification from pitboard to local"
    failed = pitboard("notify", "test", "broken")
    assert failed.exit_code == 1 and "exit status 1" in failed.stdout
    unknown = pitboard("notify", "test", "nowhere")
    assert unknown.exit_code == 2 and "notify target 'nowhere': not in [notify.targets]" in unknown.stderr
    listed = json.loads(pitboard("notify", "list", "--json").stdout)
    assert [(e["id"], [(d["target"], d["state"], d["attempts"]) for d in e["deliveries"]]) for e in listed] == [
        (2, [("broken", "pending", 1)]), (1, [("local", "delivered", 1)])]
    table = pitboard("notify", "list").stdout.splitlines()
    assert table[0].split()[:6] == ["event", "time", "kind", "severity", "target", "delivery"]
    assert len(table) == 4 and "2026-01-01 00:00:00" in table[2]  # a rule under the header
    assert json.loads(pitboard("notify", "flush", "--json").stdout) == {
        "new": 0, "delivered": 0, "retrying": 0, "failed": 0, "pending": 1}  # its retry is not due yet
