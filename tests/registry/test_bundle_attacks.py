"""Hostile bundles through every command that opens one: refused in one line, nothing written.

Each attack is a real bundle plus hostile members (tests/registry/hostile.py), run through
`bundle verify`, `bundle import`, `predict BUNDLE` and `serve BUNDLE`. What "nothing written"
means is checked, not assumed: every file and folder under the test's folder (the
attacker's target, a secret a hard link aims at, the working directory, the bundle's
own folder) is listed with its bytes before and after, and the database is dumped.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import sqlite3
import stat
import tarfile
from pathlib import Path

import pandas as pd
import pytest

from core.store.database import Store
from tests.registry import hostile

ROWS = pd.DataFrame({"income": [41.5], "debt_ratio": [0.62], "purpose": ["car"]})
ENTRY_POINTS = {
    "verify": lambda bundle, cwd: ("bundle", "verify", bundle),
    "import": lambda bundle, cwd: ("bundle", "import", bundle),
    "predict": lambda bundle, cwd: ("predict", bundle, cwd / "in.csv", "-o", cwd / "out.csv"),
    "serve": lambda bundle, cwd: ("serve", bundle, "--port", "0"),
}
DATABASE_FILES = ("pitboard.db", "pitboard.db-wal", "pitboard.db-shm")


def dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


def tree(root: Path) -> dict[str, str]:
    """Every path under `root` (links not followed) with what it is: a file's SHA-256, a link's target."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            if path.name in DATABASE_FILES and path.parent == root:
                continue  # the database is compared by its rows
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                found[str(path)] = f"link -> {os.readlink(path)}"
            elif stat.S_ISREG(mode):
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                found[str(path)] = "folder" if stat.S_ISDIR(mode) else f"mode {mode:o}"
    return found


@pytest.fixture
def scene(served, pitboard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A real bundle, the places an attack would write to, and a service that must never start."""
    import core.serving.service

    def never(*args, **kwargs):
        raise AssertionError("a hostile bundle reached the service")

    monkeypatch.setattr(core.serving.service, "serve", never)
    real = tmp_path / "real.tar.gz"
    assert pitboard("model", "package", "scoring@1", "-o", real).exit_code == 0
    (tmp_path / "target").mkdir()
    (tmp_path / "secret.txt").write_text("the attacker wants to change this\n")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    ROWS.to_csv(cwd / "in.csv", index=False)
    monkeypatch.chdir(cwd)
    (tmp_path / "bundles").mkdir()
    return {"real": hostile.real_members(real), "cwd": cwd, "db": served["db"]}


def _refused_and_untouched(pitboard, args, tmp_path: Path, db: Path, exit_code: int, *fragments: str) -> str:
    before_files, before_rows = tree(tmp_path), dump(db)
    done = pitboard(*args)
    assert done.exit_code == exit_code, (done.stdout, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert tree(tmp_path) == before_files, "something was written, changed or removed on disk"
    assert dump(db) == before_rows
    return lines[0]


@pytest.mark.parametrize("attack", sorted(hostile.attacks(Path("/x"), b"")))
def test_a_hostile_bundle_is_refused_naming_the_member_and_writes_nothing(scene, pitboard, tmp_path: Path, attack: str) -> None:
    model = dict((info.name, data) for info, data in scene["real"])["model.skops"]
    chosen = hostile.attacks(tmp_path, model)[attack]
    bundle = hostile.write_tarball(tmp_path / "bundles" / "evil.tar.gz", [*scene["real"], *chosen.members])
    for entry, args in sorted(ENTRY_POINTS.items()):
        line = _refused_and_untouched(pitboard, args(bundle, scene["cwd"]), tmp_path, scene["db"],
                                      chosen.exit_code, f"Error: {bundle}: ", chosen.says)
        assert chosen.culprit[:60] in line, (entry, line)
    assert list((tmp_path / "target").iterdir()) == []
    assert (tmp_path / "secret.txt").read_text() == "the attacker wants to change this\n"


def test_the_cve_2025_4517_chain_is_refused_by_the_console_script(scene, pitboard_process, tmp_path: Path) -> None:
    bundle = hostile.write_tarball(tmp_path / "bundles" / "evil.tar.gz", [*scene["real"], *hostile.cve_2025_4517(tmp_path / "target")])
    before = tree(tmp_path)
    for command in ("verify", "import"):
        done = pitboard_process("bundle", command, bundle, db=scene["db"])
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and "is a folder; a bundle holds only plain files" in done.stderr
    assert tree(tmp_path) == before
    assert not (tmp_path / "target" / "pwned.txt").exists()


def test_bombs_stop_at_the_limits_with_one_line(scene, pitboard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import core.registry.tarsafety as tarsafety

    monkeypatch.setattr(tarsafety, "MAX_TOTAL_BYTES", 1024 * 1024)
    zeros = b"\0" * (2 * 1024 * 1024)
    cases = {
        "big.tar.gz": ([hostile.file_member("notes.txt", zeros)], "more than 1,048,576 bytes once uncompressed (at member 'notes.txt')"),
        "header.tar.gz": ([hostile.file_member("notes.txt", pax={"comment": "z" * (6 * 1024 * 1024)})],
                          "more than 1,048,576 bytes once uncompressed; refused"),
        "many.tar.gz": ([hostile.file_member(f"f{i}") for i in range(tarsafety.MAX_MEMBERS)], "more than 64 members"),
    }
    for name, (members, says) in cases.items():
        bundle = hostile.write_tarball(tmp_path / "bundles" / name, [*scene["real"], *members])
        assert bundle.stat().st_size < 64 * 1024, "a bomb is small on disk"
        for args in ENTRY_POINTS.values():
            _refused_and_untouched(pitboard, args(bundle, scene["cwd"]), tmp_path, scene["db"], 2, f"Error: {bundle}: ", says)


def test_a_junk_empty_or_truncated_archive_is_one_line_naming_the_file(scene, pitboard, tmp_path: Path) -> None:
    whole = hostile.write_tarball(tmp_path / "whole.tar.gz", scene["real"]).read_bytes()
    no_manifest = io.BytesIO()
    with tarfile.open(fileobj=no_manifest, mode="w:gz") as tar:
        for info, data in scene["real"]:
            if info.name != "manifest.json":
                tar.addfile(info, io.BytesIO(data))
    cases = {
        "junk.tar.gz": (b"this is not a bundle\n" * 10, 2, "not gzip data"),
        "empty.tar.gz": (b"", 2, "empty file"),
        "truncated.tar.gz": (whole[: len(whole) // 2], 2, "truncated"),
        "gzipped-junk.tar.gz": (gzip.compress(b"not a tar archive at all " * 40), 2, "not a tar archive"),
        "no-manifest.tar.gz": (no_manifest.getvalue(), 1, "no manifest.json; not a pitboard bundle"),
    }
    for name, (data, exit_code, says) in cases.items():
        bundle = tmp_path / "bundles" / name
        bundle.write_bytes(data)
        for args in ENTRY_POINTS.values():
            _refused_and_untouched(pitboard, args(bundle, scene["cwd"]), tmp_path, scene["db"], exit_code, f"Error: {bundle}: ", says)


def _folder_bundle(served, tmp_path: Path) -> Path:
    from core.registry.packaging import export_bundle

    with Store.open(served["db"]) as store:
        export_bundle(store, "scoring@1", tmp_path / "bundles" / "folder")
    return tmp_path / "bundles" / "folder"


def test_a_bundle_folder_with_a_link_fifo_or_subfolder_is_refused_naming_it(served, scene, pitboard, tmp_path: Path) -> None:
    folder = _folder_bundle(served, tmp_path)
    outside = tmp_path / "outside.skops"
    outside.write_bytes((folder / "model.skops").read_bytes())
    plants = {
        "model.skops": (lambda path: (path.unlink(), path.symlink_to(outside)), "is a symbolic link"),
        "pipe": (lambda path: os.mkfifo(path), "is a special file"),
        "sub": (lambda path: path.mkdir(), "is a folder"),
    }
    for name, (plant, says) in plants.items():
        pristine = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and not p.is_symlink()}
        plant(folder / name)
        for args in ENTRY_POINTS.values():
            _refused_and_untouched(pitboard, args(folder, scene["cwd"]), tmp_path, scene["db"], 2, f"Error: {folder}: '{name}' {says}")
        (folder / name).rmdir() if name == "sub" else (folder / name).unlink()
        for file_name, data in pristine.items():
            (folder / file_name).write_bytes(data)
