"""`pitboard data` through the real command: add, list, show, head, validate, bad input."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from core.data.datasets import add_dataset
from core.store.clock import fixed_clock
from core.store.database import Store

from tests.conftest import SAMPLE_DATA, T0, file_bytes

TRAIN = SAMPLE_DATA / "credit_train.csv"
MONTH = SAMPLE_DATA / "production"
GOOD = "id,x,label\n1,0.5,0\n2,1.5,1\n3,2.5,0\n"


def test_add_list_show_head_as_text_and_json(pitboard: Callable, tmp_path: Path) -> None:
    added = pitboard("data", "add", "credit", TRAIN, "--target", "default", "--time-column", "application_date")
    assert added.exit_code == 0, added.stderr
    assert added.stdout.startswith("credit@1: 10,000 rows x 14 columns, sha256 ")
    assert added.stdout.rstrip().endswith("(new version)")

    again = json.loads(pitboard("data", "add", "credit", TRAIN, "--json").stdout)
    assert (again["created"], again["ref"], again["target"], again["time_column"]) == (False, "credit@1", "default",
                                                                                       "application_date")
    assert again["created_at"] == T0

    listed = json.loads(pitboard("data", "list", "--json").stdout)
    assert [(d["name"], d["latest"], d["rows"], d["columns"]) for d in listed] == [("credit", 1, 10_000, 14)]
    text = pitboard("data", "list").stdout.splitlines()
    assert text[0].split() == ["name", "latest", "versions", "rows", "columns", "target", "sha256", "created_at"]
    assert text[2].split()[:6] == ["credit", "1", "1", "10000", "14", "default"]

    shown = json.loads(pitboard("data", "show", "credit@1", "--json").stdout)
    assert shown["version"]["sha256"] == again["sha256"]
    by_name = {c["name"]: c for c in shown["columns"]}
    assert by_name["applicant_id"]["role"] == "id"
    assert by_name["application_date"]["role"] == "datetime"
    assert by_name["default"]["role"] == "target"
    assert by_name["employment_type"]["role"] == "categorical"
    assert by_name["income"]["profile"]["missing"] == 10_000 - by_name["income"]["profile"]["count"] > 0
    show_text = pitboard("data", "show", "credit").stdout
    assert "income" in show_text and "numeric" in show_text and "default" in show_text

    head = json.loads(pitboard("data", "head", "credit", "-n", "2", "--offset", "1", "--json").stdout)
    assert [row["applicant_id"] for row in head] == ["A0000002", "A0000003"]
    assert {k: head[0][k] for k in ("application_date", "income", "debt_to_income", "term_months", "default")} == {
        "application_date": "2025-01-01", "income": 53900.0, "debt_to_income": 0.27, "term_months": 60, "default": 1}
    assert "table" not in again  # the rows live in dataset_chunks, not in a table of their own
    head_text = pitboard("data", "head", "credit", "-n", "3").stdout.splitlines()
    assert head_text[0].split()[:2] == ["applicant_id", "application_date"]
    assert len(head_text) == 2 + 3


def test_list_versions_of_one_dataset(pitboard: Callable) -> None:
    pitboard("data", "add", "credit", TRAIN, "--target", "default")
    pitboard("data", "add", "credit", MONTH / "month_01.csv")
    versions = json.loads(pitboard("data", "list", "credit", "--json").stdout)
    assert [(v["ref"], v["n_rows"], v["target"]) for v in versions] == [
        ("credit@1", 10_000, "default"), ("credit@2", 1_497, "default")]


def test_validate_exit_codes_follow_error_level_checks(pitboard: Callable) -> None:
    pitboard("data", "add", "credit", TRAIN, "--target", "default")
    pitboard("data", "add", "credit", MONTH / "month_12.csv")
    same = pitboard("data", "validate", "credit@1", "--against", "credit@1")
    assert same.exit_code == 0, same.stdout + same.stderr
    assert same.stdout.startswith("credit@1 against credit@1: 0 errors, 0 warnings")

    shifted = pitboard("data", "validate", "credit@2", "--against", "credit@1", "--json")
    assert shifted.exit_code == 1
    report = json.loads(shifted.stdout)
    failed = {(c["name"], c["column"]) for c in report["checks"] if not c["passed"] and c["severity"] == "error"}
    assert {("distribution_shift", "income"), ("distribution_shift", "debt_to_income")} <= failed
    assert report["ok"] is False
    assert shifted.stderr.startswith("Error: credit@2: ")
    assert "distribution_shift income" in shifted.stderr

    table = pitboard("data", "validate", "credit@2", "--against", "credit@1")
    assert table.exit_code == 1
    rows = [line.split() for line in table.stdout.splitlines() if line.startswith("FAIL")]
    assert ["FAIL", "error", "distribution_shift", "income"] == rows[0][:4]


def test_validate_all_lists_passing_checks(pitboard: Callable) -> None:
    pitboard("data", "add", "credit", TRAIN, "--target", "default")
    every = pitboard("data", "validate", "credit", "--all")
    assert every.exit_code == 0
    assert sum(line.startswith("pass") for line in every.stdout.splitlines()) > 20


def test_validation_thresholds_come_from_pitboard_toml(pitboard: Callable, db_path: Path) -> None:
    pitboard("data", "add", "credit", TRAIN, "--target", "default")
    pitboard("data", "add", "credit", MONTH / "month_12.csv")
    (db_path.parent / "pitboard.toml").write_text("[validation]\npsi_error = 5.0\npsi_warning = 5.0\n")
    relaxed = pitboard("data", "validate", "credit@2", "--against", "credit@1")
    assert relaxed.exit_code == 0, relaxed.stdout + relaxed.stderr
    (db_path.parent / "pitboard.toml").write_text("[validation.severity]\ndistribution_shift = 'fatal'\n")
    wrong = pitboard("data", "validate", "credit@2", "--against", "credit@1")
    assert wrong.exit_code == 2
    assert "pitboard.toml: [validation.severity] distribution_shift = 'fatal' should be one of" in wrong.stderr


def test_end_to_end_in_a_real_process(pitboard_process: Callable) -> None:
    added = pitboard_process("data", "add", "credit", TRAIN, "--target", "default")
    assert added.returncode == 0, added.stderr
    assert pitboard_process("data", "validate", "credit@1", "--against", "credit@1").returncode == 0
    pitboard_process("data", "add", "credit", MONTH / "month_12.csv")
    failed = pitboard_process("data", "validate", "credit@2", "--against", "credit@1")
    assert failed.returncode == 1
    assert "income" in failed.stdout and "debt_to_income" in failed.stdout


# -- bad input: one line naming the problem, a non-zero exit, the database unchanged -------------


@pytest.fixture
def seeded_db(db_path: Path, tmp_path: Path) -> Path:
    """A database that already holds a dataset, closed so its bytes are final."""
    good = tmp_path / "good.csv"
    good.write_text(GOOD)
    with Store.open(db_path, clock=fixed_clock(T0)) as store:
        add_dataset(store, "good", good)
    return db_path


def snapshot(db: Path) -> tuple[bytes, bytes]:
    return file_bytes(db), file_bytes(db.with_name(db.name + "-wal"))


def bad_file(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


BAD_FILES = [
    ("empty.csv", b"", [], r"empty\.csv: empty file$"),
    ("blank.csv", b"\n\n  \n", [], r"blank\.csv: empty file \(only blank lines\)$"),
    ("header.csv", b"a,b,c\n", [], r"header\.csv: has a header \(3 columns\) but no data rows$"),
    ("semi.csv", b"a;b;c\n1;2;3\n4;5;6\n", [], r"semi\.csv: found one column 'a;b;c': the file looks ';'-separated"),
    ("junk.csv", bytes(range(256)) * 4, [], r"junk\.csv: binary data \(NUL byte at offset 0\), not a CSV text file$"),
    ("latin1.csv", "name,city\nana,Oslo\nbo,Malmö\n".encode("latin-1"), [],
     r"latin1\.csv: not UTF-8 text \(byte 0xf6 at line 3\); save the file as UTF-8$"),
    ("dupes.csv", b"a,b,a\n1,2,3\n", [], r"dupes\.csv: duplicate column name 'a' at columns 1 and 3$"),
    ("case.csv", b"Income,income\n1,2\n", [], r"case\.csv: duplicate column name 'income' \(same as 'Income'"),
    ("unnamed.csv", b",a\n0,1\n", [], r"unnamed\.csv: column 1 has no name"),
    ("ragged.csv", b"a,b\n1,2\n3,4,5\n", [], r"ragged\.csv: cannot parse CSV \(Error tokenizing data.*line 3, saw 3"),
    ("fake.parquet", b"a,b\n1,2\n", [], r"fake\.parquet: not a Parquet file \("),
    ("target.csv", GOOD.encode(), ["--target", "nope"], r"target\.csv: --target 'nope' is not a column; columns: id, x, label$"),
    ("time.csv", GOOD.encode(), ["--time-column", "x"], r"time\.csv: --time-column 'x' does not hold ISO 8601 dates"),
]


@pytest.mark.parametrize(("name", "content", "options", "message"), BAD_FILES, ids=[case[0] for case in BAD_FILES])
def test_bad_files_are_refused_and_the_database_is_unchanged(
    pitboard: Callable, seeded_db: Path, tmp_path: Path, name: str, content: bytes, options: list[str], message: str
) -> None:
    import re

    path = bad_file(tmp_path, name, content)
    before = snapshot(seeded_db)
    result = pitboard("data", "add", "bad", path, *options)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert re.search(message, lines[0].removeprefix("Error: ")), lines[0]
    assert lines[0].startswith(f"Error: {path}")
    assert snapshot(seeded_db) == before


def test_a_missing_path_is_refused(pitboard: Callable, seeded_db: Path, tmp_path: Path) -> None:
    before = snapshot(seeded_db)
    result = pitboard("data", "add", "bad", tmp_path / "nowhere.csv")
    assert (result.exit_code, result.stderr) == (2, f"Error: {tmp_path / 'nowhere.csv'}: no such file\n")
    assert snapshot(seeded_db) == before


def test_unknown_references_are_refused(pitboard: Callable, seeded_db: Path) -> None:
    before = snapshot(seeded_db)
    missing = pitboard("data", "show", "credit")
    assert (missing.exit_code, missing.stderr) == (2, "Error: dataset 'credit' not found; datasets: good\n")
    against = pitboard("data", "validate", "good@1", "--against", "good@7")
    assert (against.exit_code, against.stderr) == (2, "Error: good@7 not found; good has versions 1\n")
    assert snapshot(seeded_db) == before


def test_a_database_that_is_not_sqlite_is_refused_and_untouched(pitboard: Callable, tmp_path: Path) -> None:
    db = tmp_path / "notes.db"
    db.write_bytes(b"these are my notes, not a database " * 40)
    good = bad_file(tmp_path, "good.csv", GOOD.encode())
    result = pitboard("data", "add", "good", good, db=db)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {db}: not a SQLite database")
    assert len(result.stderr.splitlines()) == 1
    assert db.read_bytes() == b"these are my notes, not a database " * 40
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.csv", "notes.db"]


def test_a_database_from_a_newer_pitboard_is_refused_and_untouched(pitboard: Callable, seeded_db: Path,
                                                                  tmp_path: Path) -> None:
    conn = sqlite3.connect(seeded_db)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    before = snapshot(seeded_db)
    result = pitboard("data", "add", "good", bad_file(tmp_path, "other.csv", b"a\n1\n"))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {seeded_db}: schema version 999 is newer than this pitboard supports")
    assert snapshot(seeded_db) == before


def test_verify_rehashes_the_stored_rows_and_names_altered_versions(pitboard: Callable, db_path: Path,
                                                                    tmp_path: Path) -> None:
    import pandas as pd

    from core.data.chunks import encode_frame

    assert pitboard("data", "verify").stdout.strip() == "no dataset versions"
    (tmp_path / "a.csv").write_text(GOOD)
    (tmp_path / "b.csv").write_text(GOOD + "4,3.5,1\n")
    for name, path in (("small", "a.csv"), ("small", "b.csv"), ("other", "a.csv")):
        assert pitboard("data", "add", name, tmp_path / path, "--target", "label").exit_code == 0
    clean = pitboard("data", "verify")
    assert clean.exit_code == 0 and clean.stdout.count(" ok ") == 3

    conn = sqlite3.connect(db_path)  # someone edits small@2's rows behind pitboard's back: 2.5 -> 2.75
    version_id = conn.execute("SELECT v.id FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id"
                              " WHERE d.name = 'small' AND v.version = 2").fetchone()[0]
    edited = pd.DataFrame({"id": [1, 2, 3, 4], "x": [0.5, 1.5, 2.75, 3.5], "label": [0, 1, 0, 1]})
    (chunk,) = encode_frame(edited)
    conn.execute("UPDATE dataset_chunks SET data = ? WHERE version_id = ?", (chunk.data.to_pybytes(), version_id))
    conn.commit()
    conn.close()
    before = file_bytes(db_path)

    altered = pitboard("data", "verify", "--json")
    assert altered.exit_code == 1
    assert "1 of 3 versions do not match their recorded hash: small@2" in altered.stderr
    results = {r["version"]: r for r in json.loads(altered.stdout)}
    assert [v for v, r in results.items() if not r["ok"]] == ["small@2"]
    assert results["small@2"]["problem"] == "the stored rows changed since the import"
    assert results["small@1"]["stored"] == results["small@1"]["recorded"]
    assert pitboard("data", "verify", "small@1", "other").exit_code == 0
    assert file_bytes(db_path) == before  # verifying writes nothing

    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE dataset_chunks SET data = ? WHERE version_id = ?", (b"not arrow at all", version_id))
    conn.commit()
    conn.close()
    broken = pitboard("data", "verify", "small@2")
    assert broken.exit_code == 1 and "ALTERED" in broken.stdout
    assert "small@2: a stored chunk cannot be decoded" in broken.stdout
