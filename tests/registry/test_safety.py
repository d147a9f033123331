"""Hostile inputs to model loading: crafted tarballs and skops files are refused, nothing runs."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.experiments.modelio import UntrustedModelError, dump_model, load_model
from core.registry.tarsafety import safe_extract
from core.store.errors import PitboardError


def _tarball(path: Path, members: list[tarfile.TarInfo]) -> Path:
    """A .tar.gz whose first member is a harmless file, followed by `members`."""
    with tarfile.open(path, "w:gz") as tar:
        ok = tarfile.TarInfo("manifest.json")
        ok.size = 2
        tar.addfile(ok, io.BytesIO(b"{}"))
        for member in members:
            tar.addfile(member, io.BytesIO(b"x" * member.size) if member.isfile() else None)
    return path


def _file(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = 1
    return info


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


def _special(name: str, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    return info


@pytest.mark.parametrize(
    ("member", "words"),
    [
        (_file("/etc/cron.d/evil"), "absolute path"),
        (_file("../outside.txt"), "'..'"),
        (_file("model/../../outside.txt"), "'..'"),
        (_link("model.skops", "/etc/passwd"), "points outside"),
        (_link("sub/model.skops", "../../etc/passwd"), "points outside"),
        (_link("model.skops", "../secret", tarfile.LNKTYPE), "points outside"),
        (_special("dev", tarfile.CHRTYPE), "device"),
        (_special("pipe", tarfile.FIFOTYPE), "device"),
    ],
    ids=["absolute", "dotdot", "nested-dotdot", "symlink-absolute", "symlink-escape", "hardlink-escape", "device", "fifo"],
)
def test_hostile_tar_is_refused_before_anything_is_extracted(tmp_path: Path, member: tarfile.TarInfo, words: str) -> None:
    archive = _tarball(tmp_path / "bundle.tar.gz", [member])
    destination = tmp_path / "out"
    destination.mkdir()
    with pytest.raises(PitboardError) as caught:
        safe_extract(archive, destination)
    assert words in str(caught.value)
    assert member.name in str(caught.value)
    assert list(destination.iterdir()) == [], "the harmless first member must not have been written either"
    assert not (tmp_path / "outside.txt").exists()


def test_links_that_stay_inside_are_extracted(tmp_path: Path) -> None:
    archive = _tarball(tmp_path / "ok.tar.gz", [_file("sub/data.bin"), _link("sub/alias.bin", "data.bin")])
    destination = tmp_path / "out"
    destination.mkdir()
    safe_extract(archive, destination)
    assert (destination / "sub" / "alias.bin").read_bytes() == b"x"
    assert json.loads((destination / "manifest.json").read_text()) == {}


def test_a_file_that_is_not_a_tarball_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bundle.tar.gz"
    bogus.write_bytes(b"this is not gzip")
    with pytest.raises(PitboardError, match="not a readable tar archive"):
        safe_extract(bogus, tmp_path)


def _logistic() -> object:
    from sklearn.linear_model import LogisticRegression

    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    return LogisticRegression().fit(X, [0, 0, 1, 1])


def _rewrite_schema(data: bytes, change) -> bytes:
    """Edit a real skops file's schema.json the way an attacker would, keeping the arrays."""
    source = zipfile.ZipFile(io.BytesIO(data))
    schema = json.loads(source.read("schema.json"))
    change(schema)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            target.writestr(name, json.dumps(schema) if name == "schema.json" else source.read(name))
    return out.getvalue()


def test_a_real_model_round_trips() -> None:
    model = _logistic()
    loaded = load_model(dump_model(model))
    np.testing.assert_allclose(loaded.predict_proba([[1.5]]), model.predict_proba([[1.5]]))


def test_skops_file_calling_os_system_is_refused_naming_the_type(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    calls: list[str] = []
    monkeypatch.setattr(os, "system", lambda command: calls.append(command) or 0)

    def plant(schema: dict) -> None:
        schema["content"]["content"]["C"] = {
            "__class__": "system", "__module__": "os", "__loader__": "FunctionNode",
            "content": {"module_path": "os", "function": "system"}, "__id__": 10**9,  # no other node's id
        }

    hostile = _rewrite_schema(dump_model(_logistic()), plant)
    with pytest.raises(UntrustedModelError, match=r"untrusted type os\.system"):
        load_model(hostile)
    assert calls == []


def test_skops_file_building_an_unlisted_class_is_refused() -> None:
    def plant(schema: dict) -> None:
        schema["__class__"], schema["__module__"] = "Popen", "subprocess"

    with pytest.raises(UntrustedModelError, match=r"subprocess\.Popen"):
        load_model(_rewrite_schema(dump_model(_logistic()), plant))


def test_bytes_that_are_not_skops_are_a_clear_error() -> None:
    with pytest.raises(PitboardError, match="not a readable skops file"):
        load_model(b"\x80\x04K\x01.")  # a pickle, not a skops zip
