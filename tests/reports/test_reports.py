"""Every kind of report on a real database: Markdown snapshots, JSON checked against its schema."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from tests.conftest import file_bytes

SCHEMA = json.loads((resources.files("core.reports") / "report.schema.json").read_text(encoding="utf-8"))

CASES = {
    "validation": ("validation", "credit"),
    "run": ("run", "{good}"),
    "compare": ("compare", "{good}", "{weak}"),
    "promotion_recorded": ("promotion", "credit-risk@1"),
    "promotion_refused": ("promotion", "credit-risk@2"),
    "model": ("model", "credit-risk@champion"),
    "monitoring": ("monitoring", "credit-risk"),
}


def _args(report_db: dict, case: str) -> list[str]:
    return [a.format(**report_db) for a in CASES[case]]


@pytest.mark.parametrize("case", sorted(CASES))
def test_markdown_reports_match_their_snapshots(report_db, pitboard, md_snapshot, case: str) -> None:
    result = pitboard("report", *_args(report_db, case))
    assert result.exit_code == 0, result.stderr
    assert "<" not in result.stdout.replace("<=", "")  # no HTML
    assert result.stdout == md_snapshot


@pytest.mark.parametrize("case", sorted(CASES))
def test_json_reports_follow_the_schema(report_db, pitboard, case: str) -> None:
    result = pitboard("report", *_args(report_db, case), "--format", "json")
    assert result.exit_code == 0, result.stderr
    found = json.loads(result.stdout)
    jsonschema.validate(found, SCHEMA)
    assert found["kind"] == CASES[case][0] and found["generated"] == "2026-01-01 00:00:00"


def test_the_verdicts_say_what_happened(report_db, pitboard) -> None:
    def report(case: str) -> dict:
        return json.loads(pitboard("report", *_args(report_db, case), "--format", "json").stdout)

    recorded, refused = report("promotion_recorded"), report("promotion_refused")
    assert recorded["status"] == "pass" and recorded["facts"]["recorded"] is True
    assert refused["status"] == "fail" and refused["facts"]["recorded"] is False
    assert refused["summary"][2].startswith("1 of 2 gates passed; failed: beats champion on window ")
    monitoring = report("monitoring")
    assert monitoring["status"] == "fail"  # a deep-recession month: critical alerts
    assert [w["n_rows"] > 0 for w in monitoring["facts"]["windows"]] == [True] * len(monitoring["facts"]["windows"])
    compared = report("compare")
    assert compared["summary"][1] == f"best roc_auc: run {report_db['good']} with " + \
        compared["summary"][1].rsplit(" ", 1)[1]


def test_a_period_narrows_the_monitoring_report(report_db, pitboard) -> None:
    every = json.loads(pitboard("report", "monitoring", "credit-risk", "--format", "json").stdout)
    ends = sorted(w["end"] for w in every["facts"]["windows"])
    later = json.loads(pitboard("report", "monitoring", "credit-risk", "--since", str(ends[0]), "--format", "json").stdout)
    assert [w["end"] for w in later["facts"]["windows"]] == [e for e in ends if e > ends[0]] != []
    assert later["summary"][1].endswith("rows: 2026-01-31 00:00:00 .. 2026-01-31 00:00:00 UTC")
    bad = pitboard("report", "monitoring", "credit-risk", "--since", "yesterday")
    assert bad.exit_code == 2 and bad.stderr.strip() == "Error: --since 'yesterday': not a time; use ISO 8601 or epoch seconds"


def test_output_file_and_bad_references(report_db, pitboard, tmp_path) -> None:
    out = tmp_path / "report.md"
    assert pitboard("report", "run", str(report_db["good"]), "-o", str(out)).exit_code == 0
    assert out.read_text().startswith(f"## Run {report_db['good']}: LogisticRegression in credit-risk\n")
    before = file_bytes(report_db["db"])
    cases = [
        (["run", "999"], "run 999"),
        (["run", "x"], "run 'x': a run is a number"),
        (["compare", "1"], "report compare: give 2 to 20 runs, not 1"),
        (["validation", "nothing"], "nothing"),
        (["model", "credit-risk@7"], "credit-risk@7"),
        (["promotion", "credit-risk@2", "--to", "9"], "an alias cannot be a number"),
        (["run", "1", "-o", str(tmp_path / "missing" / "r.md")], "folder"),
    ]
    for args, said in cases:
        result = pitboard("report", *args)
        assert result.exit_code == 2, (args, result.stdout)
        assert result.stderr.count("\n") == 1 and said in result.stderr, (args, result.stderr)
    assert file_bytes(report_db["db"]) == before
    assert not list((tmp_path).glob(".report*"))
