"""Extract a `.tar.gz` bundle only when every member is a plain file or folder inside it.

A bundle can come from anywhere (a colleague, a CI artifact, a download), and a crafted
archive can write outside the target folder through an absolute path, a `..` component,
or a link whose target leaves the folder, or plant a device file. Python's own `data`
filter rejects these too, but one member at a time while extracting, which can leave a
half-written folder behind. Here the whole member list is checked first and nothing is
written unless every member passes; extraction then still runs with the `data` filter.
"""

from __future__ import annotations

import tarfile
from pathlib import Path, PurePosixPath

from core.store.errors import PitboardError


def check_member(archive: Path, member: tarfile.TarInfo) -> None:
    """Raise when `member` could write outside the folder it is extracted into."""
    name = member.name
    path = PurePosixPath(name)
    if not name or path.is_absolute() or name.startswith("\\") or (len(name) > 1 and name[1] == ":"):
        raise PitboardError(f"{archive}: member {name!r} has an absolute path; refused, nothing extracted")
    if ".." in path.parts or "\\" in name:
        raise PitboardError(f"{archive}: member {name!r} leaves the bundle folder ('..'); refused, nothing extracted")
    if member.issym() or member.islnk():
        target = PurePosixPath(member.linkname)
        resolved = target if member.islnk() else path.parent / target
        if target.is_absolute() or _escapes(resolved):
            raise PitboardError(
                f"{archive}: link {name!r} -> {member.linkname!r} points outside the bundle; refused, nothing extracted"
            )
    elif not (member.isfile() or member.isdir()):
        raise PitboardError(f"{archive}: member {name!r} is a device, fifo or special file; refused, nothing extracted")


def _escapes(path: PurePosixPath) -> bool:
    """Whether a relative path climbs above its starting folder at any point."""
    depth = 0
    for part in path.parts:
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in (".", ""):
            depth += 1
    return False


def safe_extract(archive: Path, destination: Path) -> None:
    """Check every member of `archive`, then extract it into `destination`."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                check_member(archive, member)
            tar.extractall(destination, members=members, filter="data")
    except tarfile.TarError as exc:
        raise PitboardError(f"{archive}: not a readable tar archive ({exc})") from exc
