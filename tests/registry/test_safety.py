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
from core.registry.tarsafety import read_tarball
from core.store.errors import PitboardError
from tests.registry import hostile


def _tarball(path: Path, members: list[hostile.Member]) -> Path:
    """A .tar.gz whose first member is a harmless file, followed by `members`."""
    return hostile.write_tarball(path, [hostile.file_member("manifest.json", b"{}"), *members])


@pytest.mark.parametrize(
    ("member", "words"),
    [
        (hostile.file_member("/etc/cron.d/evil"), "has an absolute path"),
        (hostile.file_member("../outside.txt"), "leaves the bundle folder ('..')"),
        (hostile.file_member("model/../../outside.txt"), "leaves the bundle folder ('..')"),
        (hostile.link_member("model.skops", "/etc/passwd"), "is a symbolic link to '/etc/passwd'"),
        (hostile.link_member("model.skops", "../secret", tarfile.LNKTYPE), "is a hard link to '../secret'"),
        (hostile.link_member("alias.bin", "manifest.json"), "is a symbolic link to 'manifest.json'"),
        (hostile.special_member("dev", tarfile.CHRTYPE), "is a character device"),
        (hostile.special_member("disk", tarfile.BLKTYPE), "is a block device"),
        (hostile.special_member("pipe", tarfile.FIFOTYPE), "is a FIFO"),
        (hostile.folder_member("sub"), "is a folder"),
    ],
    ids=["absolute", "dotdot", "nested-dotdot", "symlink-absolute", "hardlink", "symlink-inside", "chr", "blk", "fifo", "folder"],
)
def test_anything_but_a_plain_file_with_a_plain_name_is_refused(tmp_path: Path, member: hostile.Member, words: str) -> None:
    archive = _tarball(tmp_path / "bundle.tar.gz", [member])
    with pytest.raises(PitboardError) as caught:
        read_tarball(archive)
    assert str(caught.value).startswith(f"{archive}: member {member[0].name!r} {words}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle.tar.gz"], "reading writes nothing"


def test_plain_files_are_read_into_memory_by_name(tmp_path: Path) -> None:
    archive = _tarball(tmp_path / "ok.tar.gz", [hostile.file_member("model.skops", b"\x00model")])
    assert read_tarball(archive) == {"manifest.json": b"{}", "model.skops": b"\x00model"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.tar.gz"]


def test_a_file_that_is_not_a_tarball_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bundle.tar.gz"
    bogus.write_bytes(b"this is not gzip")
    with pytest.raises(PitboardError, match="not gzip data"):
        read_tarball(bogus)


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
