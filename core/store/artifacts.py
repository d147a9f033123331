"""Content-addressed blobs in the database: fitted models and anything else worth keeping.

A blob's key is the SHA-256 of its bytes, so the same model stored twice (a run and the
registered version made from it) takes the space once, and every read re-hashes the
bytes: a corrupted or tampered blob is refused instead of being deserialised.
"""

from __future__ import annotations

import hashlib

from core.store.database import Store
from core.store.errors import NotFound, PitboardError


def sha256_of(data: bytes) -> str:
    """The hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def put_blob(store: Store, data: bytes) -> str:
    """Store `data` (once: identical bytes are deduplicated) and return its SHA-256."""
    digest = sha256_of(data)
    with store.transaction():
        store.conn.execute(
            "INSERT OR IGNORE INTO artifacts (sha256, size, data, created_at) VALUES (?, ?, ?, ?)",
            (digest, len(data), data, store.clock()),
        )
    return digest


def get_blob(store: Store, sha256: str) -> bytes:
    """The bytes stored under `sha256`, after checking they still hash to it."""
    found = store.row("SELECT data FROM artifacts WHERE sha256 = ?", (sha256,))
    if found is None:
        raise NotFound(f"artifact {sha256}: not in the database")
    data = bytes(found["data"])
    actual = sha256_of(data)
    if actual != sha256:
        raise PitboardError(f"artifact {sha256}: content hashes to {actual}; the stored bytes were altered")
    return data


def artifact_references(store: Store) -> list[tuple[str, str]]:
    """(table, column) of every foreign key pointing at `artifacts.sha256`.

    Found from the schema itself, so tables added later (registered model versions,
    bundles) protect their blobs from `gc` without registering anywhere.
    """
    references = []
    tables = store.rows("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    for table in tables:
        for fk in store.rows("SELECT * FROM pragma_foreign_key_list(?)", (table["name"],)):
            if fk["table"] == "artifacts":
                references.append((table["name"], fk["from"]))
    return references


def collect_garbage(store: Store) -> dict[str, int]:
    """Delete every blob that nothing references; report how many and how many bytes."""
    references = artifact_references(store)
    unreferenced = "SELECT sha256, size FROM artifacts a WHERE " + (
        " AND ".join(f'NOT EXISTS (SELECT 1 FROM "{t}" WHERE "{c}" = a.sha256)' for t, c in references) or "1"
    )
    with store.transaction():
        doomed = store.rows(unreferenced)
        store.conn.executemany("DELETE FROM artifacts WHERE sha256 = ?", [(row["sha256"],) for row in doomed])
        if doomed:
            store.audit("artifacts.gc", "artifacts", {"deleted": len(doomed)})
    return {"artifacts_deleted": len(doomed), "artifact_bytes": sum(row["size"] for row in doomed)}
