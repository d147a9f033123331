"""Shared fixtures: a fresh database with a pinned clock, and the real `pitboard` command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings

from core.store.clock import fixed_clock
from core.store.database import Store

REPO = Path(__file__).resolve().parent.parent
SAMPLE_DATA = REPO / "sample_data"
T0 = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC, the clock every test starts from


def wait_for(check: Callable[[], object], *, what: str | Callable[[], str] = "condition",
             timeout: float = 120.0, interval: float = 0.05) -> object:
    """Poll `check` until it returns something truthy, and return that.

    Another process or thread (a job's worker, a service's log writer) reports through the
    database, so its rows are the event awaited. On timeout the test fails saying `what`;
    a callable `what` is asked then, so it can say what it saw last.
    """
    import time

    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what() if callable(what) else what}")
        time.sleep(interval)

# Property tests explore the same examples on every run: CI failures must reproduce.
settings.register_profile("pitboard", derandomize=True, deadline=None, max_examples=200, print_blob=True)
settings.load_profile("pitboard")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "pitboard.db"


@pytest.fixture
def store(db_path: Path):
    opened = Store.open(db_path, clock=fixed_clock(T0))
    yield opened
    opened.close()


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def pitboard(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliResult]:
    """Run `pitboard --db <tmp db> ARGS...` in-process through click, with a pinned clock."""
    from core.cli import cli
    from tui.launch import TextualApp

    monkeypatch.setenv("PITBOARD_NOW", str(T0))

    def run(*args: str, db: Path | None = None, input: str | None = None) -> CliResult:
        runner = CliRunner()
        result = runner.invoke(cli, ["--db", str(db or db_path), *map(str, args)], input=input, catch_exceptions=False,
                               obj=TextualApp())
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return run


@pytest.fixture
def pitboard_process(db_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the installed `pitboard` console script in a real subprocess."""
    exe = shutil.which("pitboard", path=str(Path(sys.executable).parent)) or shutil.which("pitboard")
    assert exe, "the pitboard console script is not installed (pip install -e .)"

    def run(*args: str, db: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "PITBOARD_NOW": str(T0), **(env or {})}
        return subprocess.run(
            [exe, "--db", str(db or db_path), *map(str, args)],
            capture_output=True, text=True, env=full_env, timeout=timeout,
        )

    return run


def file_bytes(path: Path) -> bytes:
    """A database file's bytes, for before/after comparisons (WAL is checkpointed first)."""
    return path.read_bytes() if path.exists() else b""
