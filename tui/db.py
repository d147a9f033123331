"""Database access for the app's worker threads.

Panes read the database in thread workers so the event loop never waits on SQLite. A
sqlite3 connection must not be used by two threads at once, and a worker may still be
finishing when the next one starts, so every worker opens its own short-lived store with
`with Store.open(app.db_path, clock=app.clock) as store:` (cheap: the file is already
migrated) and the UI thread never touches a connection.
"""

from __future__ import annotations

from core.store.database import Store


def has_table(store: Store, name: str) -> bool:
    """Whether a table exists: panes query only what this database's schema has."""
    return store.value("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)) is not None
