"""The store: pragmas, migrations (including a race), transactions, audit and bad files."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from core.clock import fixed_clock
from core.errors import PitboardError
from core.store import Store, migration_scripts, resolve_db_path, split_statements

from .conftest import T0


def test_new_database_is_wal_with_foreign_keys_and_migrated(store: Store) -> None:
    assert store.value("PRAGMA journal_mode") == "wal"
    assert store.value("PRAGMA foreign_keys") == 1
    assert store.value("PRAGMA synchronous") == 1  # NORMAL
    assert store.value("PRAGMA busy_timeout") == 30_000
    assert store.schema_version == len(migration_scripts())
    assert store.value("SELECT count(*) FROM sqlite_master WHERE name = 'audit'") == 1


def test_reopening_does_not_migrate_again(db_path: Path) -> None:
    Store.open(db_path).close()
    with Store.open(db_path) as again:
        assert again.schema_version == len(migration_scripts())


def test_transaction_commits_and_audits(store: Store) -> None:
    with store.transaction():
        store.audit("test.action", "thing@1", {"why": "because"})
    row = store.row("SELECT * FROM audit")
    assert (row["ts"], row["action"], row["object"], row["details"]) == (T0, "test.action", "thing@1", '{"why": "because"}')
    assert row["user"]


def test_transaction_rolls_back_everything_on_error(store: Store) -> None:
    with pytest.raises(ValueError):
        with store.transaction():
            store.audit("test.action", "x")
            with store.transaction():  # nested joins the outer one
                store.audit("test.inner", "y")
            raise ValueError("boom")
    assert store.value("SELECT count(*) FROM audit") == 0
    assert not store.in_transaction


def test_audit_outside_a_transaction_is_refused(store: Store) -> None:
    with pytest.raises(RuntimeError, match="inside store.transaction"):
        store.audit("test.action", "x")


def test_file_that_is_not_sqlite_is_refused_and_left_untouched(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database, just some text that is long enough" * 20)
    before = junk.read_bytes()
    with pytest.raises(PitboardError, match=r"junk\.db: not a SQLite database"):
        Store.open(junk)
    assert junk.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.db"]


def test_database_from_a_newer_pitboard_is_refused_and_left_untouched(db_path: Path) -> None:
    Store.open(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    before = db_path.read_bytes()
    with pytest.raises(PitboardError, match="schema version 999 is newer"):
        Store.open(db_path)
    assert db_path.read_bytes() == before


def test_missing_folder_and_directory_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(PitboardError, match="does not exist"):
        Store.open(tmp_path / "nope" / "x.db")
    with pytest.raises(PitboardError, match="is a directory"):
        Store.open(tmp_path)


def _open_and_report(path: str, queue: "multiprocessing.Queue[int]") -> None:
    with Store.open(path) as opened:
        queue.put(opened.schema_version)


def test_two_processes_migrating_at_once_do_not_race(db_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    workers = [ctx.Process(target=_open_and_report, args=(str(db_path), queue)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    versions = {queue.get(timeout=5) for _ in workers}
    assert versions == {len(migration_scripts())}
    with Store.open(db_path) as opened:
        assert opened.value("SELECT count(*) FROM sqlite_master WHERE name = 'audit'") == 1


def test_split_statements_handles_semicolons_in_strings_and_triggers() -> None:
    script = "CREATE TABLE t (a TEXT DEFAULT ';');\n-- comment\nCREATE TRIGGER g AFTER INSERT ON t BEGIN\n  SELECT 1;\nEND;\n"
    assert len(split_statements(script)) == 2


def test_db_path_resolution_prefers_flag_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PITBOARD_DB", "/tmp/from-env.db")
    assert resolve_db_path("x.db") == Path("x.db")
    assert resolve_db_path(None) == Path("/tmp/from-env.db")
    monkeypatch.delenv("PITBOARD_DB")
    assert resolve_db_path(None) == Path("pitboard.db")


def test_settings_merge_and_reject_unknown_keys(db_path: Path) -> None:
    (db_path.parent / "pitboard.toml").write_text('[validation]\nmissing_jump = 0.2\n[models.credit-risk]\nmin_auc = 0.7\n')
    with Store.open(db_path, clock=fixed_clock(T0)) as opened:
        assert opened.settings("validation", {"missing_jump": 0.1, "dup": 0.0}) == {"missing_jump": 0.2, "dup": 0.0}
        assert opened.settings("models.credit-risk", {"min_auc": 0.5}) == {"min_auc": 0.7}
        assert opened.settings("absent", {"a": 1}) == {"a": 1}
        with pytest.raises(PitboardError, match=r"unknown key 'missing_jump' in \[validation\]; valid keys: other"):
            opened.settings("validation", {"other": 1})
        with pytest.raises(PitboardError, match=r"missing_jump = 0.2 should be str"):
            opened.settings("validation", {"missing_jump": "x"})


def test_invalid_toml_names_the_file(db_path: Path) -> None:
    (db_path.parent / "pitboard.toml").write_text("[validation\n")
    with Store.open(db_path) as opened:
        with pytest.raises(PitboardError, match=r"pitboard\.toml: invalid TOML"):
            opened.settings("validation", {})
