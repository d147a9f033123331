"""The net under everything: an exception nobody foresaw is one line and a crash log, never
a traceback. The fault is injected in-process, inside a real command."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

from core.store.database import Store
from tests.conftest import file_bytes

LINE = re.compile(r"Error: internal error in (?P<where>[\w ]+): (?P<what>.+); details in (?P<path>\S+)\n")


@pytest.fixture
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(folder))
    return folder


def break_listing(monkeypatch: pytest.MonkeyPatch) -> None:
    import core.data.datasets

    def broken(store):
        raise ZeroDivisionError("injected fault\nsecond line")

    monkeypatch.setattr(core.data.datasets, "list_datasets", broken)


def test_an_unexpected_exception_is_one_line_naming_the_command_and_a_crash_log(pitboard, db_path, state_home, monkeypatch) -> None:
    Store.open(db_path).close()
    before = file_bytes(db_path)
    break_listing(monkeypatch)
    result = pitboard("data", "list")
    assert (result.exit_code, result.stdout) == (1, "")
    found = LINE.fullmatch(result.stderr)
    assert found, result.stderr
    assert (found["where"], found["what"]) == ("data list", "ZeroDivisionError: injected fault")
    log = Path(found["path"])
    assert log.parent == state_home / "pitboard" / "crash" and log.name.startswith("crash-") and log.suffix == ".log"
    text = log.read_text(encoding="utf-8")
    assert "in: data list\n" in text and "Traceback (most recent call last):" in text
    assert text.rstrip().endswith("ZeroDivisionError: injected fault\nsecond line")
    assert "Traceback" not in result.stderr
    assert file_bytes(db_path) == before and file_bytes(db_path.with_name("pitboard.db-wal")) == b""


def test_without_a_writable_state_folder_the_log_goes_to_the_temporary_folder(pitboard, tmp_path, monkeypatch) -> None:
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "a-file" / "state"))  # under a file: nobody can create it
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    break_listing(monkeypatch)
    result = pitboard("data", "list")
    found = LINE.fullmatch(result.stderr)
    assert result.exit_code == 1 and found, result.stderr
    assert Path(found["path"]).parent.parent == tmp_path / "tmp"
    assert Path(found["path"]).parent.name.startswith("pitboard-crash-")


def test_a_command_in_a_nested_group_is_named_whole(pitboard, state_home, monkeypatch) -> None:
    import core.monitoring.alerts

    monkeypatch.setattr(core.monitoring.alerts, "list_alerts", lambda *a, **k: [][1])
    result = pitboard("alerts", "list")
    found = LINE.fullmatch(result.stderr)
    assert result.exit_code == 1 and found, result.stderr
    assert (found["where"], found["what"]) == ("alerts list", "IndexError: list index out of range")


def test_errors_users_can_fix_stay_what_they_were(pitboard, state_home) -> None:
    result = pitboard("jobs", "show", "7")
    assert (result.exit_code, result.stderr) == (2, "Error: job 7: no such job\n")
    assert pitboard("runs", "list", "--limit", "x").exit_code == 2  # click's own usage errors
    assert not state_home.exists()  # no crash log for any of them
