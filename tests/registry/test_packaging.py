"""Bundles through the real CLI: export, verify, tamper detection, hostile models, predict."""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from core.registry.packaging import export_bundle, verify_bundle
from core.serving.probe import probe_model
from core.store.database import Store
from core.store.errors import CheckFailed

ROWS = pd.DataFrame({"income": [41.5, None], "debt_ratio": [0.62, 0.1], "purpose": ["car", "home"], "applicant": ["a1", "a2"]})


def dump(db: Path) -> list[str]:
    """Every row of the database, for before/after comparisons (WAL included)."""
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


@pytest.mark.parametrize("name", ["bundle", "bundle.tar.gz"])
def test_package_writes_every_file_with_checksums_and_verifies(served, pitboard, tmp_path: Path, name: str) -> None:
    out = tmp_path / name
    done = pitboard("model", "package", "scoring@champion", "-o", out)
    assert done.exit_code == 0, done.stderr
    verified = pitboard("bundle", "verify", out, "--json")
    assert verified.exit_code == 0, verified.stderr
    report = json.loads(verified.stdout)
    assert set(report["files"]) == {"model.skops", "requirements.txt", "MODEL_CARD.md", "Dockerfile"}
    assert report["model_loads"] and report["version"] == 1
    with Store.open(served["db"]) as store:
        assert store.value("SELECT action FROM audit ORDER BY id DESC LIMIT 1") == "model.package"


def test_a_tarball_of_the_same_version_is_the_same_bytes_whenever_it_is_made(served, tmp_path: Path) -> None:
    from core.store.clock import fixed_clock

    made = []
    for i, moment in enumerate((1_800_000_000.0, 1_900_000_000.0)):
        with Store.open(served["db"], clock=fixed_clock(moment)) as store:
            export_bundle(store, "scoring@1", tmp_path / f"b{i}.tar.gz")
        made.append((tmp_path / f"b{i}.tar.gz").read_bytes())
    assert made[0] == made[1]
    with tarfile.open(tmp_path / "b0.tar.gz") as tar:
        assert sorted(tar.getnames()) == tar.getnames() and {m.mtime for m in tar.getmembers()} != {1_800_000_000}


def test_manifest_and_card_describe_the_model(served, tmp_path: Path) -> None:
    with Store.open(served["db"]) as store:
        manifest = export_bundle(store, "scoring@1", tmp_path / "b")
    on_disk = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert on_disk == json.loads(json.dumps(manifest, default=str))
    assert on_disk["output"] == {"classes": [0, 1], "columns": ["label", "proba_0", "proba_1"]}
    assert [f["name"] for f in on_disk["signature"]] == ["income", "debt_ratio", "purpose"]
    assert on_disk["packages"]["scikit-learn"] and on_disk["python"]
    requirements = (tmp_path / "b" / "requirements.txt").read_text()
    assert f"scikit-learn=={on_disk['packages']['scikit-learn']}" in requirements
    assert "pitboard bundle verify /bundle" in (tmp_path / "b" / "Dockerfile").read_text()
    card = (tmp_path / "b" / "MODEL_CARD.md").read_text()
    for heading in ("## Intended use", "## Training data", "## Metrics", "## Most important features", "## Limitations", "## Gates passed"):
        assert heading in card


def test_packaging_into_an_existing_path_is_refused_unless_overwrite(served, pitboard, tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    before = dump(served["db"])
    refused = pitboard("model", "package", "scoring@1", "-o", out)
    assert refused.exit_code == 2
    assert "already exists" in refused.stderr and "--overwrite" in refused.stderr
    assert (out / "keep.txt").read_text() == "mine"
    assert dump(served["db"]) == before
    assert pitboard("model", "package", "scoring@1", "-o", out, "--overwrite").exit_code == 0
    assert not (out / "keep.txt").exists() and (out / "manifest.json").exists()


def test_a_changed_byte_fails_verification(served, pitboard, tmp_path: Path) -> None:
    with Store.open(served["db"]) as store:
        export_bundle(store, "scoring@1", tmp_path / "b")
    model = tmp_path / "b" / "model.skops"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0x01
    model.write_bytes(bytes(data))
    done = pitboard("bundle", "verify", tmp_path / "b")
    assert done.exit_code == 1
    assert "model.skops has SHA-256" in done.stderr and "the file was changed" in done.stderr
    assert pitboard("predict", tmp_path / "b", tmp_path / "in.csv", "-o", tmp_path / "out.csv").exit_code != 0


def test_extra_and_missing_files_fail_verification(served, tmp_path: Path) -> None:
    with Store.open(served["db"]) as store:
        export_bundle(store, "scoring@1", tmp_path / "b")
    (tmp_path / "b" / "run.py").write_text("import os")
    with pytest.raises(CheckFailed, match="'run.py' is not listed"):
        verify_bundle(tmp_path / "b", probe=probe_model)
    (tmp_path / "b" / "run.py").unlink()
    (tmp_path / "b" / "Dockerfile").unlink()
    with pytest.raises(CheckFailed, match="Dockerfile is missing"):
        verify_bundle(tmp_path / "b", probe=probe_model)


def test_a_hostile_model_with_consistent_checksums_is_refused_at_load(served, pitboard, tmp_path: Path) -> None:
    import hashlib

    with Store.open(served["db"]) as store:
        export_bundle(store, "scoring@1", tmp_path / "b")
    model = tmp_path / "b" / "model.skops"
    source = zipfile.ZipFile(io.BytesIO(model.read_bytes()))
    schema = json.loads(source.read("schema.json"))
    schema["__class__"], schema["__module__"] = "system", "os"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name in source.namelist():
            target.writestr(name, json.dumps(schema) if name == "schema.json" else source.read(name))
    model.write_bytes(buffer.getvalue())
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())  # the attacker fixes every hash
    manifest["files"]["model.skops"] = manifest["model_sha256"] = hashlib.sha256(buffer.getvalue()).hexdigest()
    (tmp_path / "b" / "manifest.json").write_text(json.dumps(manifest))
    done = pitboard("bundle", "verify", tmp_path / "b")
    assert done.exit_code == 2
    assert "untrusted type os.system" in done.stderr


def test_a_bundle_tarball_with_an_escaping_member_is_refused(pitboard, tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        member = tarfile.TarInfo("../escaped.txt")
        member.size = 2
        tar.addfile(member, io.BytesIO(b"hi"))
    done = pitboard("bundle", "verify", evil)
    assert done.exit_code == 2 and "'..'" in done.stderr
    assert not (tmp_path / "escaped.txt").exists()


def test_predict_scores_a_file_from_the_registry_and_from_a_bundle(served, pitboard, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    ROWS.to_csv(source, index=False)
    assert pitboard("model", "package", "scoring@1", "-o", tmp_path / "b.tar.gz").exit_code == 0
    expected = served["pipe1"].predict_proba(ROWS[["income", "debt_ratio", "purpose"]])[:, 1]
    for ref, out in (("scoring@champion", tmp_path / "a.csv"), (str(tmp_path / "b.tar.gz"), tmp_path / "b.csv")):
        done = pitboard("predict", ref, source, "-o", out)
        assert done.exit_code == 0, done.stderr
        scored = pd.read_csv(out)
        assert list(scored.columns) == [*ROWS.columns, "label", "proba_0", "proba_1"]
        assert scored["applicant"].tolist() == ["a1", "a2"], "other columns are carried through"
        assert scored["proba_1"].tolist() == pytest.approx(list(expected), rel=1e-9)


def test_predict_refuses_input_that_breaks_the_signature(served, pitboard, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    ROWS.drop(columns=["debt_ratio"]).assign(purpose=["car", None]).to_csv(source, index=False)
    out = tmp_path / "out.csv"
    done = pitboard("predict", "scoring@1", source, "-o", out)
    assert done.exit_code == 2
    assert "debt_ratio: field required" in done.stderr and "(and 1 more)" in done.stderr
    assert not out.exists()


def test_package_detach_runs_a_job_that_writes_a_verified_bundle(served, pitboard, tmp_path: Path) -> None:
    import time

    from core.jobs.runner import get_job

    out = tmp_path / "detached.tar.gz"
    started = pitboard("model", "package", "scoring@champion", "-o", out, "--detach", "--json")
    assert started.exit_code == 0, started.stderr
    job_id = json.loads(started.stdout)["job"]
    deadline = time.monotonic() + 120
    with Store.open(served["db"]) as store:
        while (job := get_job(store, job_id))["state"] in ("queued", "running"):  # the database is the event source
            assert time.monotonic() < deadline, "the package job did not end"
            time.sleep(0.05)
    assert job["state"] == "finished", job["log_tail"]
    assert (job["kind"], job["title"]) == ("package", "package scoring@1")
    assert job["result"] == {"path": str(out.resolve()), "model": "scoring", "version": 1}
    verified = pitboard("bundle", "verify", out, "--json")
    assert verified.exit_code == 0, verified.stderr
    assert json.loads(verified.stdout)["model_loads"]
    again = pitboard("model", "package", "scoring@champion", "-o", out, "--detach")
    assert again.exit_code == 2 and "already exists" in again.stderr, "refused before a job is started"


def test_bundle_import_registers_the_model_once_and_scores_like_it(served, pitboard, tmp_path: Path) -> None:
    bundle = tmp_path / "b.tar.gz"
    assert pitboard("model", "package", "scoring@1", "-o", bundle).exit_code == 0
    fresh = tmp_path / "other.db"
    first = pitboard("bundle", "import", bundle, "--json", db=fresh)
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout) == {"model": "scoring", "version": 1, "source": "bundle scoring@1"}
    again = pitboard("bundle", "import", bundle, db=fresh)
    assert again.exit_code == 0 and again.stdout.strip() == f"{bundle}: available as scoring@1 (bundle scoring@1)"
    source = tmp_path / "in.csv"
    ROWS.to_csv(source, index=False)
    done = pitboard("predict", "scoring@1", source, "-o", tmp_path / "out.csv", db=fresh)
    assert done.exit_code == 0, done.stderr
    expected = served["pipe1"].predict_proba(ROWS[["income", "debt_ratio", "purpose"]])[:, 1]
    assert pd.read_csv(tmp_path / "out.csv")["proba_1"].tolist() == pytest.approx(list(expected), rel=1e-9)


def test_a_tampered_bundle_is_not_imported(served, pitboard, tmp_path: Path) -> None:
    with Store.open(served["db"]) as store:
        export_bundle(store, "scoring@1", tmp_path / "b")
    card = tmp_path / "b" / "MODEL_CARD.md"
    card.write_text(card.read_text() + "\nAlso approved for loans over $1M.\n")
    fresh = tmp_path / "other.db"
    assert pitboard("data", "list", db=fresh).exit_code == 0  # an empty, migrated database
    before = dump(fresh)
    done = pitboard("bundle", "import", tmp_path / "b", db=fresh)
    assert done.exit_code == 1 and "MODEL_CARD.md has SHA-256" in done.stderr
    assert dump(fresh) == before
