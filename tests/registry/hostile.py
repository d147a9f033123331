"""Hostile bundles, built the way an attacker would: a real bundle's members plus an attack.

Starting from real members matters: the archive is otherwise a valid bundle, so a refusal
is the attack being caught and not some unrelated defect of the file.
"""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

Member = tuple[tarfile.TarInfo, bytes | None]


def file_member(name: str, data: bytes = b"x", *, pax: dict[str, str] | None = None) -> Member:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    if pax:
        info.pax_headers = dict(pax)
    return info, data


def link_member(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def special_member(name: str, kind: bytes) -> Member:
    info = tarfile.TarInfo(name)
    info.type = kind
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 3  # /dev/null
    return info, None


def folder_member(name: str) -> Member:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    return info, None


def real_members(bundle: Path) -> list[Member]:
    """The members of a bundle `pitboard model package` wrote, in order."""
    with tarfile.open(bundle) as tar:
        return [(member, tar.extractfile(member).read()) for member in tar.getmembers()]


def write_tarball(path: Path, members: list[Member]) -> Path:
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def cve_2025_4517(target: Path, payload: bytes = b"pwned\n") -> list[Member]:
    """The nested symlink chain of CVE-2025-4517, then a file written through it into `target`.

    Sixteen links `a`..`p`, each to a long folder name, make the resolved path of
    `a/b/.../p/lll...` longer than PATH_MAX, so `os.path.realpath` stops resolving there and
    judges the rest lexically. `escape` climbs out through that point: lexically it stays in
    the bundle, really it reaches `/`, then follows `target`'s absolute path. A checker that
    judges members one by one (or Python 3.11's `filter="data"`) lets all of it through, and
    `escape/pwned.txt` lands in `target`. The folder names are sized to the extraction
    folder an extracting reader would use (`<tmp>/pitboard-bundle-XXXXXXXX`), as an attacker
    tunes them to the victim's layout.
    """
    extraction_root = os.path.join(tempfile.gettempdir(), "pitboard-bundle-xxxxxxxx")
    component = "d" * min(247, (4095 - len(extraction_root)) // 16 - 1)
    steps = "abcdefghijklmnop"
    members: list[Member] = []
    path = ""
    for step in steps:
        members.append(folder_member(os.path.join(path, component)))
        members.append(link_member(os.path.join(path, step), component))
        path = os.path.join(path, component)
    chain = os.path.join("/".join(steps), "l" * 254)
    members.append(link_member(chain, "../" * len(steps)))
    members.append(link_member("escape", chain + "/.." * (len(steps) + 1) + str(target)))
    members.append(file_member("escape/pwned.txt", payload))
    return members


@dataclass(frozen=True)
class Attack:
    """Members added to a real bundle, the member the refusal must name, and what it must say."""

    members: list[Member]
    culprit: str
    says: str
    exit_code: int = 2


def attacks(tmp_path: Path, model: bytes) -> dict[str, Attack]:
    """Every way in, each aimed at something under `tmp_path` a test can watch."""
    target, secret = tmp_path / "target", tmp_path / "secret.txt"
    chain = cve_2025_4517(target)
    return {
        "cve-2025-4517": Attack(chain, chain[0][0].name, "is a folder"),
        "absolute": Attack([file_member(f"{target}/absolute.txt")], f"{target}/absolute.txt", "absolute path"),
        "dotdot": Attack([file_member("../escaped.txt")], "../escaped.txt", "'..'"),
        "backslash-dotdot": Attack([file_member("..\\escaped.txt")], "..\\\\escaped.txt", "'..'"),
        "drive-letter": Attack([file_member("C:escaped.txt")], "C:escaped.txt", "absolute path"),
        "symlink-to-root": Attack(
            [link_member("root", "/"), file_member(f"root{target}/via-root.txt")], "root", "symbolic link to '/'"),
        "hardlink-outside": Attack(
            [link_member("notes.txt", str(secret), tarfile.LNKTYPE), file_member("notes.txt", b"overwritten")],
            "notes.txt", "hard link"),
        "device": Attack([special_member("null", tarfile.CHRTYPE)], "null", "character device"),
        "fifo": Attack([special_member("pipe", tarfile.FIFOTYPE)], "pipe", "FIFO"),
        "duplicate": Attack([file_member("model.skops", model[::-1])], "model.skops", "appears twice"),
        "case-duplicate": Attack([file_member("MODEL.skops", model)], "MODEL.skops", "appears twice"),
        "nul-in-name": Attack([file_member("notes.txt", pax={"path": "notes\x00.txt"})], "notes\\x00.txt", "control character"),
        "long-name": Attack([file_member("n" * 300)], "n" * 60, "longer than 128"),
        "in-a-folder": Attack([file_member("extra/notes.txt")], "extra/notes.txt", "inside a folder"),
        "not-in-manifest": Attack([file_member("notes.txt")], "notes.txt", "is not listed in the manifest", exit_code=1),
    }
