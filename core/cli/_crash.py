"""Errors nobody foresaw: one line for the user, the whole story in a crash log.

A user must never meet a Python traceback because of what they typed or the files they
have: `PitboardError` covers every problem we know of, and this is the net under
everything else. The `pitboard` command (and the app, which reports the same way) turns an
unexpected exception into `internal error in <command>: <type>: <message>; details in
<file>` and writes the traceback, the command line and the versions to that file, under
the user's state folder (`$XDG_STATE_HOME/pitboard/crash/`, else
`~/.local/state/pitboard/crash/`), or the temporary folder when that cannot be written.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
import traceback
from importlib import metadata
from pathlib import Path


def crash_folders() -> list[Path]:
    """Where crash logs go, in order of preference."""
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    uid = os.getuid() if hasattr(os, "getuid") else os.getpid()
    return [Path(state) / "pitboard" / "crash", Path(tempfile.gettempdir()) / f"pitboard-crash-{uid}"]


def _version() -> str:
    try:
        return metadata.version("pitboard")
    except metadata.PackageNotFoundError:
        return "unknown"


def write_crash_log(exc: BaseException, where: str) -> Path | None:
    """Write `exc`'s traceback and context to a new file; its path, or None if no folder takes it."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())  # the real time: a crash is not part of the data
    text = (f"pitboard {_version()}, Python {platform.python_version()} on {platform.platform()}\n"
            f"at {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, pid {os.getpid()}\n"
            f"in: {where}\ncommand line: {' '.join(sys.argv)}\n\n"
            + "".join(traceback.format_exception(exc)))
    for folder in crash_folders():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix=f"crash-{stamp}-", suffix=".log", dir=folder)
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            return Path(name)
        except OSError:
            continue
    return None


def internal_error(exc: BaseException, where: str) -> str:
    """The one line for an unexpected exception in `where`, after saving its crash log."""
    path = write_crash_log(exc, where)
    message = (str(exc).strip().splitlines() or [""])[0]
    what = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    details = f"details in {path}" if path else "no crash log could be written (state and temporary folders are read-only)"
    return f"internal error in {where}: {what}; {details}"
