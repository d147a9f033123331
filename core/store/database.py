"""The SQLite store: one file that holds everything pitboard knows.

The database is the contract between the engine, the CLI, the TUI and background jobs.
Connections use WAL (readers never block the writer), foreign keys, a busy timeout and
synchronous=NORMAL. The schema is a sequence of SQL files in `core/store/migrations/`, applied
forward under an exclusive lock so two processes opening a new database cannot race.
A migration that must convert existing data also has a Python step (`migrate(conn)` in
`NNNN_name.py` beside its SQL; see `core/store/migrations/__init__.py`), run in the same
transaction. `PRAGMA user_version` records how far a database has been migrated.

Every change goes through `Store.transaction()`, and every user-visible action writes an
`audit` row inside that same transaction, so the audit log never disagrees with the data.

The file system can refuse: a database file the user may only read still answers every
query, and the first write in a transaction fails; that write is rolled back and reported
as one line naming the file (`read_only`), like a folder where SQLite cannot create the
write-ahead log beside the database, which SQLite reports on the first read.
"""

from __future__ import annotations

import getpass
import importlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.store.clock import Clock, default_clock
from core.store.errors import PitboardError

if TYPE_CHECKING:
    from core.store.config import Range

DEFAULT_DB = "pitboard.db"
ENV_DB = "PITBOARD_DB"
BUSY_TIMEOUT_MS = 30_000


def resolve_db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The database to use: `--db`, else `$PITBOARD_DB`, else `./pitboard.db`."""
    return Path(explicit or os.environ.get(ENV_DB) or DEFAULT_DB)


def migration_scripts() -> list[tuple[int, str, str]]:
    """(number, file name, SQL) of every migration shipped with pitboard, in order."""
    folder = resources.files("core.store") / "migrations"
    scripts = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            scripts.append((int(name[:4]), name, entry.read_text(encoding="utf-8")))
    scripts.sort()
    numbers = [number for number, _, _ in scripts]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations must be numbered 0001, 0002, ... without gaps: {numbers}")
    return scripts


def python_step(name: str) -> Callable[[sqlite3.Connection], None] | None:
    """`migrate(conn)` of the `NNNN_name.py` beside migration `NNNN_name.sql`, if there is one."""
    stem = name.removesuffix(".sql")
    if not (resources.files("core.store") / "migrations" / f"{stem}.py").is_file():
        return None
    return importlib.import_module(f"core.store.migrations.{stem}").migrate


def split_statements(script: str) -> list[str]:
    """Split a SQL script into statements (executescript would commit our transaction)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip():
                statements.append(pending.strip())
            pending = ""
    if pending.strip() and not pending.strip().startswith("--"):
        raise RuntimeError(f"incomplete SQL statement in migration: {pending.strip()[:60]!r}")
    return statements


def read_only(exc: sqlite3.Error) -> bool:
    """Whether SQLite refused because the file, or its folder, cannot be written."""
    return getattr(exc, "sqlite_errorname", "").startswith("SQLITE_READONLY")


def open_problem(path: Path, exc: sqlite3.DatabaseError) -> str:
    """What went wrong reading `path` at all, in words: not every DatabaseError is a bad file."""
    name = getattr(exc, "sqlite_errorname", "")
    if name == "SQLITE_READONLY_DIRECTORY":
        return (f"{path}: cannot open: SQLite must create {path.name}-wal and {path.name}-shm beside the database,"
                f" and its folder {path.parent} is read-only; make the folder writable or copy the database elsewhere")
    if name in ("SQLITE_NOTADB", ""):
        return f"{path}: not a SQLite database ({exc})"
    if name.startswith("SQLITE_CORRUPT"):
        return f"{path}: the database file is damaged ({exc})"
    return f"{path}: cannot read the database ({exc})"


def os_user() -> str:
    """The operating-system user, for audit rows."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


class Store:
    """An open pitboard database.

    Use `Store.open(path)`. The connection is in autocommit mode; `transaction()` opens an
    IMMEDIATE transaction (taking the write lock up front, so two writers queue on the busy
    timeout instead of failing mid-way). Nested `transaction()` calls join the outer one.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, clock: Clock) -> None:
        self.conn = conn
        self.path = path
        self.clock = clock
        self._depth = 0
        self._config: dict[str, Any] | None = None

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, *, clock: Clock | None = None) -> "Store":
        """Open (creating if needed) and migrate the database at `path`."""
        db_path = resolve_db_path(path)
        clock = clock or default_clock()  # a PITBOARD_NOW that is no time fails before the file is touched
        if db_path.is_dir():
            raise PitboardError(f"{db_path}: is a directory, not a database file")
        if not db_path.parent.exists():
            raise PitboardError(f"{db_path}: folder {db_path.parent} does not exist")
        try:
            conn = sqlite3.connect(
                db_path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise PitboardError(f"{db_path}: cannot open database ({exc})") from exc
        conn.row_factory = sqlite3.Row
        store = cls(conn, db_path, clock)
        try:
            store._configure_and_migrate()
        except BaseException:
            conn.close()
            raise
        return store

    def _configure_and_migrate(self) -> None:
        conn = self.conn
        try:
            # Read before writing anything: a file that is not SQLite, or a database from a
            # newer pitboard, must be left exactly as it was.
            found = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise PitboardError(open_problem(self.path, exc)) from exc
        known = len(migration_scripts())
        if found > known:
            raise PitboardError(
                f"{self.path}: schema version {found} is newer than this pitboard supports ({known}); upgrade pitboard"
            )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if found == 0 or conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        if found < known:
            self._migrate()

    def _migrate(self) -> None:
        """Apply missing migrations under an exclusive lock (another process may race us)."""
        conn = self.conn
        conn.execute("BEGIN EXCLUSIVE")
        try:
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            for number, name, script in migration_scripts():
                if number <= current:
                    continue
                for statement in split_statements(script):
                    try:
                        conn.execute(statement)
                    except sqlite3.Error as exc:
                        if read_only(exc):
                            raise PitboardError(f"{self.path}: the database is read-only and needs upgrading to schema"
                                                f" {len(migration_scripts())}; open it once where it can be written") from exc
                        raise RuntimeError(f"migration {name} failed: {exc}") from exc
                step = python_step(name)
                if step is not None:
                    try:
                        step(conn)
                    except Exception as exc:
                        raise RuntimeError(f"migration {name.removesuffix('.sql')}.py failed: {exc}") from exc
                conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        """How many migrations this database has had."""
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        """All rows of a query."""
        return self.conn.execute(sql, params).fetchall()

    def row(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        """The first row of a query, or None."""
        return self.conn.execute(sql, params).fetchone()

    def value(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        """The first column of the first row, or None."""
        found = self.conn.execute(sql, params).fetchone()
        return None if found is None else found[0]

    # -- writing -------------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        """Whether a `transaction()` block is open on this store."""
        return self._depth > 0

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work: commits on success, rolls back on any exception."""
        if self._depth:
            self._depth += 1
            try:
                yield self.conn
            finally:
                self._depth -= 1
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.conn
        except sqlite3.OperationalError as exc:
            self._depth = 0
            self.conn.execute("ROLLBACK")
            if read_only(exc):
                raise self.read_only_error(exc) from exc
            raise
        except BaseException:
            self._depth = 0
            self.conn.execute("ROLLBACK")
            raise
        self._depth = 0
        self.conn.execute("COMMIT")

    def read_only_error(self, exc: sqlite3.Error) -> PitboardError:
        """The one line for a write the file system refused (nothing was changed)."""
        return PitboardError(f"{self.path}: the database is read-only ({exc}); nothing was changed")

    def vacuum(self) -> None:
        """Rebuild the file compactly and fold the write-ahead log into it (outside any transaction)."""
        try:
            self.conn.execute("VACUUM")
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.OperationalError as exc:
            if read_only(exc):
                raise self.read_only_error(exc) from exc
            raise

    def audit(self, action: str, obj: str, details: dict[str, Any] | None = None) -> int:
        """Record who did what to which object; must run inside `transaction()`."""
        if not self._depth:
            raise RuntimeError("audit() must be called inside store.transaction()")
        cursor = self.conn.execute(
            "INSERT INTO audit (ts, user, action, object, details) VALUES (?, ?, ?, ?, ?)",
            (self.clock(), os_user(), action, obj, json.dumps(details or {}, sort_keys=True, default=str)),
        )
        return int(cursor.lastrowid)

    def start_log_sync(self, written: int) -> Callable[[], None]:
        """After writing `written` bytes in a transaction, start flushing the write-ahead log
        to disk in a helper thread; call the result to wait for it.

        Why: a commit that grows the log past SQLite's auto-checkpoint size checkpoints at
        once, and the checkpoint begins by fsyncing the log, then copies its pages into the
        database and fsyncs that. After a bulk write inside a transaction (a dataset import
        writes tens of MiB of chunks), most of those pages already sit in the log file, so
        flushing them while the rest of the transaction's work runs takes about half of the
        checkpoint's disk wait off the commit. A smaller write does not checkpoint, and its
        commit does not fsync at all (synchronous=NORMAL): nothing is started for it. An
        fsync changes nothing SQLite can observe.
        """
        checkpoint_pages = self.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        if checkpoint_pages <= 0 or written < checkpoint_pages * self.conn.execute("PRAGMA page_size").fetchone()[0]:
            return lambda: None
        log = Path(f"{self.path}-wal")
        sync = getattr(os, "fdatasync", os.fsync)

        def flush() -> None:
            try:
                handle = os.open(log, os.O_RDONLY)
            except OSError:  # no log file: nothing was written yet
                return
            try:
                sync(handle)
            finally:
                os.close(handle)

        thread = threading.Thread(target=flush, name="wal-sync", daemon=True)
        thread.start()
        return thread.join

    # -- configuration -------------------------------------------------------------------

    @property
    def config_path(self) -> Path:
        """`pitboard.toml` beside the database file."""
        return self.path.parent / "pitboard.toml"

    def settings(self, section: str, defaults: dict[str, Any], ranges: Mapping[str, Range] | None = None) -> dict[str, Any]:
        """The `[section]` of pitboard.toml merged over `defaults`, numbers checked against
        `ranges` (see core.store.config)."""
        from core.store.config import load_config, merge_section

        if self._config is None:
            self._config = load_config(self.config_path)
        return merge_section(self._config, section, defaults, self.config_path, ranges)
