"""What the file system refuses is one line naming the file or variable, exit 2, and the
database as it was: a read-only database or folder, a pitboard.toml that is not UTF-8 or
nests without end, a PITBOARD_NOW that is no time, and a user without a writable home
(numba's cache).

Tests run as root, whom permission bits do not stop. A read-only database is opened the
way SQLite opens a file it may not write (`mode=ro`); the read-only folder and the missing
home are real: the console script runs as the unprivileged user `nobody`.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import core.store.database
from core.store.database import Store
from tests.conftest import REPO, SAMPLE_DATA, T0, file_bytes

NOBODY = 65534
PITBOARD = Path(shutil.which("pitboard", path=str(Path(sys.executable).parent)) or "pitboard")


def read_only_connect(real):
    """`sqlite3.connect` opening every database the way SQLite opens a file it may not write."""
    def connect(path, *args, **kwargs):
        return real(f"file:{Path(path).resolve()}?mode=ro", *args, uri=True, **kwargs)

    return connect


def test_a_read_only_database_reads_and_refuses_every_write_in_one_line(pitboard, db_path: Path, monkeypatch) -> None:
    assert pitboard("data", "add", "credit", SAMPLE_DATA / "credit_train.csv", "--target", "default").exit_code == 0
    with Store.open(db_path) as store:
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = file_bytes(db_path)
    monkeypatch.setattr(core.store.database.sqlite3, "connect", read_only_connect(sqlite3.connect))
    listed = pitboard("data", "list")
    assert listed.exit_code == 0 and listed.stdout.splitlines()[2].split()[:2] == ["credit", "1"]
    refused = f"Error: {db_path}: the database is read-only (attempt to write a readonly database); nothing was changed\n"
    for command in (("data", "add", "other", SAMPLE_DATA / "credit_train.csv"), ("data", "validate", "credit@1"), ("gc",)):
        result = pitboard(*command)
        assert (result.exit_code, result.stderr) == (2, refused), command
    assert file_bytes(db_path) == before


def test_pitboard_toml_that_is_not_utf8_names_the_file(pitboard, db_path: Path) -> None:
    Store.open(db_path).close()
    before = file_bytes(db_path)
    (db_path.parent / "pitboard.toml").write_bytes(b"[jobs]\n# caf\xe9\nheartbeat_seconds = 2.0\n")
    result = pitboard("jobs", "list")
    assert (result.exit_code, result.stderr) == (2, f"Error: {db_path.parent / 'pitboard.toml'}: not UTF-8 text (byte 12); save it as UTF-8\n")
    assert file_bytes(db_path) == before and file_bytes(db_path.with_name("pitboard.db-wal")) == b""


def test_pitboard_toml_nested_without_end_names_the_file(pitboard, db_path: Path) -> None:
    (db_path.parent / "pitboard.toml").write_text("[jobs]\nx = " + "[" * 5000 + "]" * 5000 + "\n")
    result = pitboard("jobs", "list")
    assert (result.exit_code, result.stderr) == (
        2, f"Error: {db_path.parent / 'pitboard.toml'}: invalid TOML (arrays or tables nested too deeply)\n")


@pytest.mark.parametrize("value", ["abc", "nan", "1e999", "2026-13-01"])
def test_a_pitboard_now_that_is_no_time_names_the_variable(pitboard_process, db_path: Path, value: str) -> None:
    result = pitboard_process("data", "list", env={"PITBOARD_NOW": value})
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"Error: $PITBOARD_NOW={value!r}: not a time; use epoch seconds or ISO 8601, or unset it\n"
    assert not db_path.exists()  # refused before the database was created


# -- as an unprivileged user ----------------------------------------------------------------


def nobody_command() -> list[str]:
    """The command prefix that runs as `nobody`, or a skip saying why there is none."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv (util-linux), to run pitboard as the unprivileged user nobody")
    prefix = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    if subprocess.run([*prefix, sys.executable, "-c", "import core"], capture_output=True, cwd="/", timeout=60).returncode:
        pytest.skip("the user nobody cannot run this installation of pitboard")
    return prefix


@pytest.fixture
def shared_folder():
    """A folder the user `nobody` can enter but not write (pytest's own are private to root)."""
    nobody_command()
    folder = Path(tempfile.mkdtemp(prefix="pitboard-fs-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def as_nobody(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*nobody_command(), str(PITBOARD), *args], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PITBOARD_NOW": str(T0), **env}, cwd="/")


def test_a_database_in_a_read_only_folder_is_not_called_damaged(shared_folder: Path) -> None:
    db = shared_folder / "pitboard.db"
    Store.open(db).close()  # a valid database; closing removes its -wal and -shm
    db.chmod(0o666)
    before = file_bytes(db)
    result = as_nobody("--db", str(db), "data", "list", env={"HOME": str(shared_folder)})
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (f"Error: {db}: cannot open: SQLite must create pitboard.db-wal and pitboard.db-shm beside"
                             f" the database, and its folder {shared_folder} is read-only; make the folder writable or"
                             f" copy the database elsewhere\n")
    assert file_bytes(db) == before


def test_without_a_writable_home_numba_caches_in_a_private_temporary_folder(shared_folder: Path) -> None:
    """No writable home and a root-owned install: numba has nowhere to cache. `gc` and
    `monitor status` import the kernels; they work, and say once where the cache went."""
    work = shared_folder / "work"
    work.mkdir(mode=0o777)
    work.chmod(0o777)
    env = {"HOME": "/nonexistent", "TMPDIR": str(work)}
    db = work / "pitboard.db"
    first = as_nobody("--db", str(db), "gc", env=env)
    spare = work / f"pitboard-numba-{NOBODY}"
    assert first.returncode == 0, first.stderr
    assert first.stderr == (f"pitboard: numba cannot write its cache beside pitboard ({REPO}/core/kernels/__pycache__)"
                            f" or in /nonexistent/.cache/numba; compiled kernels are cached in {spare}"
                            " (set NUMBA_CACHE_DIR to choose)\n")
    assert spare.stat().st_uid == NOBODY and spare.stat().st_mode & 0o777 == 0o700
    status = as_nobody("--db", str(db), "monitor", "status", "credit-risk", env=env)
    assert (status.returncode, status.stderr) == (3, "Error: model 'credit-risk': not registered; models: (none yet)\n")
