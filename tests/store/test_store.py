"""The store: pragmas, migrations (including a race), transactions, audit and bad files."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from core.store.clock import fixed_clock
from core.store.config import SHARE
from core.store.database import Store, migration_scripts, resolve_db_path, split_statements
from core.store.errors import PitboardError

from tests.conftest import T0


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
        share = {"missing_jump": SHARE, "dup": SHARE, "min_auc": SHARE, "a": SHARE, "other": SHARE}
        assert opened.settings("validation", {"missing_jump": 0.1, "dup": 0.0}, share) == {"missing_jump": 0.2, "dup": 0.0}
        assert opened.settings("models.credit-risk", {"min_auc": 0.5}, share) == {"min_auc": 0.7}
        assert opened.settings("absent", {"a": 1}, share) == {"a": 1}
        with pytest.raises(PitboardError, match=r"unknown key 'missing_jump' in \[validation\]; valid keys: other"):
            opened.settings("validation", {"other": 1}, share)
        with pytest.raises(PitboardError, match=r"missing_jump = 0.2 should be str"):
            opened.settings("validation", {"missing_jump": "x"})


def test_invalid_toml_names_the_file(db_path: Path) -> None:
    (db_path.parent / "pitboard.toml").write_text("[validation\n")
    with Store.open(db_path) as opened:
        with pytest.raises(PitboardError, match=r"pitboard\.toml: invalid TOML"):
            opened.settings("validation", {})


# -- migration 0006: rows of ds_<id> tables move into dataset_chunks ---------------------

OLD_COLUMNS = [  # name, dtype, role, SQL type in the ds_<id> table of migrations 0001-0005
    ("loan_id", "str", "id", "TEXT"), ("opened", "datetime64[ns]", "datetime", "TEXT"),
    ("amount", "int64", "numeric", "INTEGER"), ("rate", "float64", "numeric", "REAL"),
    ("flag", "bool", "boolean", "INTEGER"), ("checked", "boolean", "boolean", "INTEGER"),
    ("seen", "datetime64[ns]", "datetime", "TEXT"), ("grade", "str", "categorical", "TEXT"),
]
OLD_ROWS = [
    ("L1", "2025-01-02", 1000, 0.05, 1, 1, "2025-01-02T10:00:00.250000", "A"),
    ("L2", "2025-01-03", -2500, None, 0, None, None, "B"),
    ("L3", None, 1200, 1e300, 1, 0, "2025-01-04T00:00:00.000000", None),
    ("L4", "2025-01-05", 900, 0.061, 0, 1, "2025-01-05T23:59:59.999999", "A"),
]


def old_layout_database(path: Path, versions: dict[int, list[tuple]]) -> None:
    """A database as migrations 0001-0005 left it: each version's rows in a table ds_<id>."""
    conn = sqlite3.connect(path, isolation_level=None)
    for number, _, script in migration_scripts()[:5]:
        for statement in split_statements(script):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {number}")
    conn.execute("INSERT INTO datasets (id, name, created_at) VALUES (1, 'loans', 0)")
    for version_id, rows in versions.items():
        conn.execute(
            "INSERT INTO dataset_versions (id, dataset_id, version, sha256, n_rows, n_columns, target, time_column,"
            " id_column, table_name, source, created_at) VALUES (?, 1, ?, 'cafe', ?, ?, NULL, 'opened', NULL, ?, 'x.csv', 0)",
            (version_id, version_id, len(rows), len(OLD_COLUMNS), f"ds_{version_id}"),
        )
        conn.executemany(
            "INSERT INTO dataset_columns (version_id, position, name, dtype, role, profile) VALUES (?, ?, ?, ?, ?, '{}')",
            [(version_id, i, name, dtype, role) for i, (name, dtype, role, _) in enumerate(OLD_COLUMNS)],
        )
        conn.execute(f"CREATE TABLE ds_{version_id} ({', '.join(f'{n} {t}' for n, _, _, t in OLD_COLUMNS)})")
        conn.executemany(f"INSERT INTO ds_{version_id} VALUES ({', '.join('?' * len(OLD_COLUMNS))})", rows)
    conn.execute("INSERT INTO validation_reports (version_id, ok, n_errors, n_warnings, checks, created_at)"
                 " VALUES (1, 1, 0, 0, '[]', 0)")
    conn.close()


def test_upgrade_moves_every_versions_rows_into_chunks(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    from core.data import chunks
    from core.data.datasets import load_frame, read_page, version_by_id

    monkeypatch.setattr(chunks, "ROWS_PER_CHUNK", 3)
    many = [(f"M{i}", "2025-02-01", i, i / 4, i % 2, None, None, "C") for i in range(7)]
    old_layout_database(db_path, {1: OLD_ROWS, 2: many})
    conn = sqlite3.connect(db_path)
    before = {v: conn.execute(f"SELECT * FROM ds_{v} ORDER BY rowid").fetchall() for v in (1, 2)}
    conn.close()

    with Store.open(db_path) as upgraded:
        assert upgraded.schema_version == len(migration_scripts()) >= 6
        assert upgraded.value("SELECT count(*) FROM sqlite_master WHERE name LIKE 'ds%'") == 0
        assert [r[0] for r in upgraded.rows("SELECT table_name FROM dataset_versions ORDER BY id")] == [
            "dataset_chunks:1", "dataset_chunks:2"]
        layout = [tuple(r) for r in upgraded.rows(
            "SELECT version_id, chunk_index, first_row, n_rows FROM dataset_chunks ORDER BY version_id, chunk_index")]
        assert layout == [(1, 0, 0, 3), (1, 1, 3, 1), (2, 0, 0, 3), (2, 1, 3, 3), (2, 2, 6, 1)]
        for version_id in (1, 2):  # pages show exactly what the old tables gave
            assert read_page(upgraded, version_by_id(upgraded, version_id), 0, 10)[1] == before[version_id]
        frame = load_frame(upgraded, version_by_id(upgraded, 1))
        assert [str(t) for t in frame.dtypes] == [dtype for _, dtype, _, _ in OLD_COLUMNS]
        assert frame["opened"].tolist()[:3] == [pd.Timestamp("2025-01-02"), pd.Timestamp("2025-01-03"), pd.NaT]
        assert frame["rate"].tolist()[3] == 0.061 and frame["rate"].isna().tolist() == [False, True, False, False]
        assert frame["checked"].tolist() == [True, pd.NA, False, True]
        assert upgraded.value("SELECT count(*) FROM validation_reports WHERE version_id = 1") == 1


def test_a_failed_upgrade_leaves_the_old_layout_in_place(db_path: Path) -> None:
    old_layout_database(db_path, {1: OLD_ROWS, 2: OLD_ROWS})
    conn = sqlite3.connect(db_path)
    conn.execute("DROP TABLE ds_2")
    conn.commit()
    conn.close()
    with pytest.raises(RuntimeError, match=r"migration 0006_dataset_chunks\.py failed: dataset version 2: "
                                           r"its rows table 'ds_2' is missing"):
        Store.open(db_path)
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 5
    assert conn.execute("SELECT count(*) FROM ds_1").fetchone()[0] == len(OLD_ROWS)
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'dataset_chunks'").fetchone()[0] == 0
    assert conn.execute("SELECT table_name FROM dataset_versions WHERE id = 1").fetchone()[0] == "ds_1"
    conn.close()


def test_log_sync_starts_only_for_writes_that_will_checkpoint(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    synced = []
    monkeypatch.setattr(os, "fdatasync", lambda handle: synced.append(handle), raising=False)
    monkeypatch.setattr(os, "fsync", lambda handle: synced.append(handle))
    with store.transaction():
        store.audit("test.small", "x")
        store.start_log_sync(written=10_000)()
        assert synced == []  # 10 kB: no checkpoint at commit, and NORMAL commits do not fsync
        store.conn.execute("CREATE TABLE big (data BLOB)")
        store.conn.execute("INSERT INTO big VALUES (?)", (b"\x01" * 5_000_000,))
        store.start_log_sync(written=5_000_000)()
        assert len(synced) == 1  # past the 1000-page auto-checkpoint: the log is flushed ahead
    assert store.value("SELECT length(data) FROM big") == 5_000_000
