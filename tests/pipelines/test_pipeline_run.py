"""`pitboard pipeline run` end to end on a small copy of the credit story, through the real CLI."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import SAMPLE_DATA
from tests.registry.conftest import SPEC  # a good and a weak candidate
from tests.reports.test_reports import SCHEMA

pytestmark = pytest.mark.slow

STAGES = ["data", "validate", "train", "register", "gate", "package", "promote"]


@pytest.fixture
def project(tmp_path: Path, db_path: Path) -> Path:
    """The sample pipeline beside 1,500 rows of the credit data and a two-run spec."""
    lines = (SAMPLE_DATA / "credit_train.csv").read_text().splitlines()[:1501]
    (tmp_path / "credit_train.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "credit_spec.toml").write_text(SPEC)
    (tmp_path / "pipeline.toml").write_text((SAMPLE_DATA / "pipeline.toml").read_text())
    (db_path.parent / "pitboard.toml").write_text("[models]\nmust_beat_current = false\n")
    return tmp_path / "pipeline.toml"


def states(stdout: str) -> dict[str, str]:
    """stage -> its state word, from the lines `pipeline run` prints."""
    found = {}
    for line in stdout.splitlines():
        parts = line.split()
        if parts and parts[0] in STAGES:
            found[parts[0]] = " ".join(parts[1:3]) if parts[1] in ("NOT", "WOULD") else parts[1]
    return found


def test_a_fresh_run_runs_everything_then_skips_everything_then_reruns_from_training(pitboard, project, db_path) -> None:
    first = pitboard("pipeline", "run", str(project))
    assert first.exit_code == 0, first.stdout + first.stderr
    assert states(first.stdout) == dict.fromkeys(STAGES, "RAN")
    assert "never ran" in first.stdout and first.stdout.splitlines()[-1] == "pipeline credit run 1: passed"
    assert (project.parent / "build" / "credit-risk.tar.gz").is_file()

    second = pitboard("pipeline", "run", str(project), "--report", str(project.parent / "report.md"))
    assert second.exit_code == 0, second.stderr
    assert states(second.stdout) == dict.fromkeys(STAGES, "SKIPPED")
    assert second.stdout.count("unchanged since pipeline run 1") == len(STAGES)
    report = (project.parent / "report.md").read_text()
    assert report.startswith("## Pipeline credit: run 2\n\n**PASS**")
    assert "- passed: 0 stages ran, 7 skipped (unchanged), 0 failed, 0 not run" in report
    as_json = json.loads(pitboard("report", "pipeline", "2", "--format", "json").stdout)
    jsonschema.validate(as_json, SCHEMA)
    assert [row[2] for row in as_json["sections"][0]["rows"]] == ["SKIPPED"] * len(STAGES)

    spec = project.parent / "credit_spec.toml"
    spec.write_text(spec.read_text().replace("C = [1.0]", "C = [0.5]"))  # one changed line
    plan = pitboard("pipeline", "run", str(project), "--dry-run")
    assert states(plan.stdout) == {"data": "WOULD SKIP", "validate": "WOULD SKIP", "train": "WOULD RUN",
                                   "register": "WOULD RUN", "gate": "WOULD RUN", "package": "WOULD RUN",
                                   "promote": "WOULD RUN"}
    assert "changed since pipeline run 2: spec" in plan.stdout
    third = pitboard("pipeline", "run", str(project))
    assert third.exit_code == 0, third.stderr
    assert states(third.stdout) == {"data": "SKIPPED", "validate": "SKIPPED", **dict.fromkeys(STAGES[2:], "RAN")}

    listed = json.loads(pitboard("pipeline", "list", "--json").stdout)
    assert [(r["id"], r["state"], r["ran"], r["skipped"]) for r in listed] == [
        (3, "passed", 5, 2), (2, "passed", 0, 7), (1, "passed", 7, 0)]
    shown = json.loads(pitboard("pipeline", "show", "3", "--json").stdout)
    promote = shown["stages"][-1]
    assert promote["outputs"] == {"alias": "champion", "moved": True, "version": "credit-risk@2"}
    assert all(s["duration"] is not None for s in shown["stages"] if s["state"] == "ran")
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM dataset_versions").fetchone()[0] == 1
        assert conn.execute("SELECT COUNT(*) FROM model_versions").fetchone()[0] == 2


def test_a_failed_gate_stops_the_run_and_the_next_run_resumes_there(pitboard, project, db_path) -> None:
    config = db_path.parent / "pitboard.toml"
    config.write_text("[models]\nmust_beat_current = false\nmin_metrics = {roc_auc = 0.99}\n")
    failed = pitboard("pipeline", "run", str(project))
    assert failed.exit_code == 1
    assert states(failed.stdout) == {**dict.fromkeys(STAGES[:4], "RAN"), "gate": "FAILED", "package": "NOT RUN",
                                     "promote": "NOT RUN"}
    assert failed.stderr.startswith("Error: pipeline credit: stage gate failed: credit-risk@1 to champion: gates failed: ")
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT state, failed_stage FROM pipeline_runs").fetchall() == [("failed", "gate")]
        (kind, severity, subject), = conn.execute("SELECT kind, severity, subject FROM outbox WHERE kind LIKE 'pipeline%'")
        assert (kind, severity) == ("pipeline.failed", "warning") and "stage gate failed" in subject
        assert conn.execute("SELECT COUNT(*) FROM model_aliases").fetchone()[0] == 0
    config.write_text("[models]\nmust_beat_current = false\n")
    resumed = pitboard("pipeline", "run", str(project))
    assert resumed.exit_code == 0, resumed.stderr
    assert states(resumed.stdout) == {**dict.fromkeys(STAGES[:4], "SKIPPED"), **dict.fromkeys(STAGES[4:], "RAN")}
    assert "gate         RAN        failed in pipeline run 1" in resumed.stdout
    forced = pitboard("pipeline", "run", str(project), "--force", "package")
    assert states(forced.stdout)["package"] == "RAN" and "forced (--force)" in forced.stdout
    assert states(forced.stdout)["promote"] == "SKIPPED"  # the same version: nothing after it changed
    retrained = pitboard("pipeline", "run", str(project), "--force", "train")
    assert retrained.exit_code == 0, retrained.stderr
    assert states(retrained.stdout) == {"data": "SKIPPED", "validate": "SKIPPED", "train": "RAN", "register": "RAN",
                                        "gate": "SKIPPED", "package": "SKIPPED", "promote": "SKIPPED"}
    with sqlite3.connect(db_path) as conn:  # the same seed and data give the same model bytes: not registered again
        assert conn.execute("SELECT COUNT(*) FROM model_versions").fetchone()[0] == 1


@pytest.mark.parametrize(("text", "said"), [
    ('[stages.a]\nrun = "validate"\ndataset = "x"\nafter = ["b"]\n[stages.b]\nrun = "validate"\ndataset = "x"\nafter = ["a"]\n',
     "the stages form a cycle: "),
    ('[stages.a]\nrun = "validate"\ndataset = "x"\nafter = ["nope"]\n', "[stages.a] after: unknown stage 'nope'"),
    ('[stages.a]\nrun = "deploy"\n', "[stages.a] run = 'deploy': unknown stage kind; kinds: data add, validate"),
    ('[stages.a]\nrun = "train"\nspec = "missing.toml"\n', "[stages.a] spec = 'missing.toml': "),
    ('[stages.a]\nrun = "train"\n', "[stages.a]: spec is required for run = 'train'"),
    ('[stages.a]\nrun = "validate"\ndataset = "x"\ncolour = "red"\n', "unknown key 'colour' for run = 'validate'"),
    ('stages = 3\n', "no stages"),
    ('[stages.a\n', "not valid TOML"),
])
def test_bad_pipelines_are_one_line_and_touch_nothing(pitboard, tmp_path, db_path, text: str, said: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    result = pitboard("pipeline", "run", str(path))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and said in result.stderr, result.stderr
    assert not db_path.exists() or sqlite3.connect(db_path).execute("SELECT COUNT(*) FROM pipeline_runs").fetchone()[0] == 0


def test_force_names_a_known_stage(pitboard, project) -> None:
    result = pitboard("pipeline", "run", str(project), "--force", "deploy", "--dry-run")
    assert result.exit_code == 2 and "no stage 'deploy'; stages: data, validate, train" in result.stderr
