"""Migration 0008, the data part: re-hash every dataset version under pitboard-content-v2.

The new hash is computed from the version's stored chunks (`core.data.content_hash.table_hash`),
which hold exactly the compact columns an import hashes, so a version migrated here and the
same file imported afresh get the same hash. Model versions' lineage keeps a copy of the
hash of the data they were trained on; those copies follow. pyarrow is only imported when
there are versions to re-hash, so creating a new database stays quick.
"""

from __future__ import annotations

import sqlite3


def migrate(conn: sqlite3.Connection) -> None:
    """Replace each version's v1 hash by its v2 hash, in dataset_versions and model lineage."""
    cursor = conn.cursor()
    cursor.row_factory = None
    versions = cursor.execute("SELECT id, sha256 FROM dataset_versions ORDER BY id").fetchall()
    if not versions:
        return
    from core.data.chunks import stored_table
    from core.data.content_hash import table_hash

    for version_id, old in versions:
        new = table_hash(stored_table(conn, version_id))
        cursor.execute("UPDATE dataset_versions SET sha256 = ? WHERE id = ?", (new, version_id))
        cursor.execute(
            "UPDATE model_versions SET info = json_set(info, '$.dataset_sha256', ?)"
            " WHERE json_extract(info, '$.dataset_version_id') = ? AND json_extract(info, '$.dataset_sha256') = ?",
            (new, version_id, old),
        )
