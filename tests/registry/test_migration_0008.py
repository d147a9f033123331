"""Migration 0008: stored versions are re-hashed under pitboard-content-v2 from their chunks,
and the copies of the old hash in model lineage follow."""

from __future__ import annotations

import sqlite3

from core.data.content_hash import content_hash
from core.data.datasets import add_frame, load_frame, resolve
from core.registry.versions import describe, register
from core.store.database import Store, migration_scripts, python_step, split_statements
from tests.registry.conftest import Trained


def with_v1_hashes(db, hashes: dict[int, str]) -> None:
    """Put v1-style hashes back where 0008 finds them."""
    conn = sqlite3.connect(db, isolation_level=None)
    for version_id, old in hashes.items():
        conn.execute("UPDATE dataset_versions SET sha256 = ? WHERE id = ?", (old, version_id))
        conn.execute("UPDATE model_versions SET info = json_set(info, '$.dataset_sha256', ?)"
                     " WHERE json_extract(info, '$.dataset_version_id') = ?", (old, version_id))
    conn.close()


def test_the_data_step_rehashes_versions_and_model_lineage(trained: Trained) -> None:
    with trained.open() as store:
        mv = register(store, trained.good_run, "credit-model")
        credit = resolve(store, "credit@1")
        other, _ = add_frame(store, "other", load_frame(store, credit).head(50), source="head")
        expected = {credit.id: content_hash(load_frame(store, credit)), other.id: content_hash(load_frame(store, other))}
        assert {credit.id: credit.sha256, other.id: other.sha256} == expected
    with_v1_hashes(trained.db, {credit.id: "a" * 64, other.id: "b" * 64})

    conn = sqlite3.connect(trained.db, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    python_step("0008_content_hash_v2.sql")(conn)  # as Store._migrate runs it
    conn.execute("COMMIT")
    conn.close()

    with trained.open() as upgraded:
        assert dict(upgraded.rows("SELECT id, sha256 FROM dataset_versions")) == expected
        assert describe(upgraded, mv)["lineage"]["dataset_sha256"] == expected[credit.id]
        # the same content added again is recognised as the migrated version
        again, created = add_frame(upgraded, "credit", load_frame(upgraded, credit), source="again", target="default")
        assert not created and again.id == credit.id


def test_a_database_at_schema_7_is_upgraded_through_0008(db_path) -> None:
    conn = sqlite3.connect(db_path, isolation_level=None)
    for number, _, script in migration_scripts()[:7]:
        for statement in split_statements(script):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {number}")
    conn.close()
    with Store.open(db_path) as upgraded:
        assert upgraded.schema_version == len(migration_scripts()) >= 8
        assert upgraded.value("SELECT count(*) FROM dataset_versions") == 0
