"""Where numba keeps the compiled kernels, decided before numba is imported.

`cache=True` makes numba write machine code beside the source (`__pycache__` of this
package) or, when that is not writable (a system-wide install), under the user's cache
folder (`$XDG_CACHE_HOME/numba` or `~/.cache/numba`). With neither (a service account with
no writable home) numba refuses to compile at all: "cannot cache function ...: no locator
available", a crash of `monitor status` and `gc` at import time.

`prepare` checks both places the way numba does (create the folder, write a file in it).
If neither takes a file, it points numba at a private folder in the temporary directory
through `NUMBA_CACHE_DIR` (read when numba is imported) and says so once, when it creates
that folder. The folder must be the user's own and writable by nobody else: numba loads
machine code from it, so a folder someone else prepared is never used. Failing that too,
kernels run uncached (compiled in every process, slower), and each process says so.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path

ENV = "NUMBA_CACHE_DIR"
IN_TREE = Path(__file__).resolve().parent / "__pycache__"


def user_wide() -> Path:
    """numba's cache folder for a package it cannot cache beside (its appdirs rule on Linux and macOS)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")) / "numba"


def fallback() -> Path:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"pitboard-numba-{uid}"


def writable(folder: Path) -> bool:
    """Whether a file can be written in `folder` (created if needed), as numba checks."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def private(folder: Path) -> bool:
    """Whether `folder` exists as a directory of this user that no one else may write."""
    try:
        info = folder.lstat()
    except OSError:
        return False
    mine = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return stat.S_ISDIR(info.st_mode) and mine and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def choose(in_tree: Path, user: Path, spare: Path) -> tuple[Path | None, bool, str]:
    """(folder for NUMBA_CACHE_DIR or None for numba's own choice, whether to cache, what to say)."""
    if writable(in_tree) or writable(user):
        return None, True, ""
    created = False
    try:
        spare.mkdir(mode=0o700)
        created = True
    except FileExistsError:
        pass
    except OSError:
        pass
    if private(spare) and writable(spare):
        said = (f"pitboard: numba cannot write its cache beside pitboard ({in_tree}) or in {user};"
                f" compiled kernels are cached in {spare} (set {ENV} to choose)") if created else ""
        return spare, True, said
    return None, False, (f"pitboard: no writable cache folder for numba ({in_tree}, {user}, {spare});"
                         f" kernels are compiled in every process (set {ENV} to a writable folder)")


def prepare() -> bool:
    """Settle numba's cache folder for this process; whether kernels are cached."""
    if os.environ.get(ENV) and writable(Path(os.environ[ENV])):
        return True
    folder, cache, said = choose(IN_TREE, user_wide(), fallback())
    if folder is not None:
        os.environ[ENV] = str(folder)
        if "numba" in sys.modules:  # imported before us: make it read the variable again
            from numba.core import config

            config.reload_config()
    if said:
        print(said, file=sys.stderr, flush=True)
    return cache
