"""Untrusted bundles read into memory: plain files with plain names, or nothing.

A bundle can come from anywhere (a colleague, a CI artifact, a download), and every tar
attack works through the file system: absolute names, `..`, links whose target leaves
the folder, devices, and chains of nested symlinks whose resolved path is too long for
`os.path.realpath` to follow, which pass a member-by-member check and Python's own
`filter="data"` and then let a later member write anywhere (CVE-2025-4517). So nothing
here writes to the file system: a bundle is a handful of files that are hashed and handed
to skops as bytes, so the members are read from the stream into memory, and anything
that is not a regular file with a plain name is refused before its data is read. With
no file, folder or link ever created, no member can be written outside anything.

The gzip stream is decompressed through a counter, so a gzip or tar bomb (or a huge
header) stops at `MAX_TOTAL_BYTES` however the archive describes itself, and a bundle
holds at most `MAX_MEMBERS` files. Every failure is one line naming the archive and the
member at fault; a junk, empty or truncated file is one line too. A bundle folder is
held to the same rules: its entries are listed without following links, and a link,
sub-folder or special file is refused, never followed or opened.
"""

from __future__ import annotations

import gzip
import itertools
import os
import re
import stat
import tarfile
import zlib
from pathlib import Path
from typing import IO

from core.store.errors import PitboardError, shown

MAX_MEMBERS = 64  # a bundle pitboard writes has 5
MAX_TOTAL_BYTES = 2 * 1024**3  # uncompressed, all members together
MAX_NAME_LENGTH = 128
_HEADER_ALLOWANCE = 64 * 1024  # per member: its tar headers, PAX records and padding
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
_DRIVE = re.compile(r"[A-Za-z]:")
_KINDS = {
    tarfile.SYMTYPE: "a symbolic link",
    tarfile.LNKTYPE: "a hard link",
    tarfile.DIRTYPE: "a folder",
    tarfile.CHRTYPE: "a character device",
    tarfile.BLKTYPE: "a block device",
    tarfile.FIFOTYPE: "a FIFO",
    tarfile.CONTTYPE: "a contiguous file",
    tarfile.GNUTYPE_SPARSE: "a sparse file",
}


def check_member_name(source: Path, name: str, what: str = "member") -> None:
    """Raise unless `name` is a plain file name: no folder, no `..`, no drive, nothing hidden."""
    problem = _name_problem(name)
    if problem:
        raise PitboardError(f"{source}: {what} {shown(name)} {problem}; refused")


def _name_problem(name: str) -> str | None:
    if not name:
        return "has an empty name"
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return "has an absolute path"
    if ".." in re.split(r"[/\\]", name):
        return "leaves the bundle folder ('..')"
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        return "has a control character in its name"
    if "/" in name or "\\" in name:
        return "is inside a folder; a bundle is a flat set of files"
    if len(name) > MAX_NAME_LENGTH:
        return f"has a name longer than {MAX_NAME_LENGTH} characters"
    if not _PLAIN_NAME.fullmatch(name):
        return "is not a plain file name (letters, digits, '_', '.', '-', starting with a letter or digit)"
    return None


class _TooLarge(Exception):
    """The decompressed stream went past its budget."""


class _Counted:
    """A read-only stream that refuses to hand out more than `limit` bytes in total."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream, self._left = stream, limit

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size if size >= 0 else self._left + 1)
        self._left -= len(data)
        if self._left < 0:
            raise _TooLarge
        return data


def read_tarball(archive: Path) -> dict[str, bytes]:
    """Each member's bytes by name, once every member is a plain file with a plain name."""
    archive = Path(archive)
    try:
        with archive.open("rb") as raw:
            if not raw.read(1):
                raise PitboardError(f"{archive}: empty file, not a bundle (.tar.gz)")
            raw.seek(0)
            budget = MAX_TOTAL_BYTES + MAX_MEMBERS * _HEADER_ALLOWANCE
            with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped, \
                    tarfile.open(fileobj=_Counted(unzipped, budget), mode="r|") as tar:  # type: ignore[call-overload]
                return _members(archive, tar)
    except _TooLarge:
        raise PitboardError(f"{archive}: more than {MAX_TOTAL_BYTES:,} bytes once uncompressed; refused") from None
    except gzip.BadGzipFile:
        raise PitboardError(f"{archive}: not gzip data; a bundle is a .tar.gz written by `pitboard model package`") from None
    except EOFError:
        raise PitboardError(f"{archive}: truncated: the compressed data ends early") from None
    except zlib.error:
        raise PitboardError(f"{archive}: corrupt compressed data") from None
    except tarfile.TarError as exc:
        raise PitboardError(f"{archive}: not a tar archive inside the gzip ({' '.join(str(exc).split())})") from None
    except OSError as exc:
        raise PitboardError(f"{archive}: cannot be read ({exc.strerror or exc})") from None


def _members(archive: Path, tar: tarfile.TarFile) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    folded: set[str] = set()
    total = 0
    for count, member in enumerate(tar, start=1):
        if count > MAX_MEMBERS:
            raise PitboardError(f"{archive}: more than {MAX_MEMBERS} members; refused (a bundle pitboard writes has 5)")
        if member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE) or member.sparse is not None:
            kind = _KINDS.get(member.type, f"of tar type {shown(member.type)}")
            target = f" to {shown(member.linkname)}" if member.issym() or member.islnk() else ""
            raise PitboardError(f"{archive}: member {shown(member.name)} is {kind}{target}; a bundle holds only plain files, refused")
        check_member_name(archive, member.name)
        if member.name.casefold() in folded:
            raise PitboardError(f"{archive}: member {shown(member.name)} appears twice; refused")
        folded.add(member.name.casefold())
        total += member.size
        if total > MAX_TOTAL_BYTES:
            raise PitboardError(f"{archive}: more than {MAX_TOTAL_BYTES:,} bytes once uncompressed (at member {shown(member.name)}); refused")
        data = tar.extractfile(member)
        content = data.read() if data is not None else b""
        if len(content) != member.size:
            raise PitboardError(f"{archive}: truncated: member {shown(member.name)} ends early")
        files[member.name] = content
    return files


def read_bundle_files(path: Path) -> dict[str, bytes]:
    """Every file of the bundle at `path` (a folder or a .tar.gz) by name, read into memory.

    Nothing is extracted or written, and a folder obeys the same rules and limits as an archive.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode  # a link the user named is followed; links inside a bundle never are
    except FileNotFoundError:
        raise PitboardError(f"{path}: no such bundle") from None
    except OSError as exc:
        raise PitboardError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(mode):
        return _read_folder(path)
    if not stat.S_ISREG(mode):
        raise PitboardError(f"{path}: neither a folder nor a regular file; a bundle is one or the other")
    return read_tarball(path)


def _read_folder(folder: Path) -> dict[str, bytes]:
    """A bundle folder's files by name; links, sub-folders and special files are refused, never followed."""
    try:
        with os.scandir(folder) as listing:
            entries = sorted(itertools.islice(listing, MAX_MEMBERS + 1), key=lambda entry: entry.name)
    except OSError as exc:
        raise PitboardError(f"{folder}: cannot be listed ({exc.strerror or exc})") from None
    if len(entries) > MAX_MEMBERS:
        raise PitboardError(f"{folder}: more than {MAX_MEMBERS} files; refused (a bundle pitboard writes has 5)")
    files: dict[str, bytes] = {}
    for entry in entries:
        check_member_name(folder, entry.name, what="file")
        if entry.is_symlink() or not entry.is_file(follow_symlinks=False):
            kind = "a symbolic link" if entry.is_symlink() else "a folder" if entry.is_dir(follow_symlinks=False) else "a special file"
            raise PitboardError(f"{folder}: {shown(entry.name)} is {kind}; a bundle holds only plain files, refused")
        files[entry.name] = _read_plain(folder, entry.name, MAX_TOTAL_BYTES - sum(map(len, files.values())))
    return files


def _read_plain(folder: Path, name: str, limit: int) -> bytes:
    """The bytes of a regular file: O_NOFOLLOW refuses a link swapped in since the listing,
    O_NONBLOCK keeps a FIFO swapped in from hanging the open, fstat refuses anything else."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        with os.fdopen(os.open(folder / name, flags), "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise PitboardError(f"{folder}: {shown(name)} is not a regular file; refused")
            data = file.read(limit + 1)
    except OSError as exc:
        raise PitboardError(f"{folder}: {shown(name)} cannot be read ({exc.strerror or exc}); refused") from None
    if len(data) > limit:
        raise PitboardError(f"{folder}: more than {MAX_TOTAL_BYTES:,} bytes in all (at {shown(name)}); refused")
    return data
