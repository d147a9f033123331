"""Where a run came from: the code's git commit and the software that trained it.

Recorded with every run so a model can be traced to its code and rebuilt with the same
library versions (the registry copies this into bundles' requirements).
"""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

KEY_PACKAGES = ("pitboard", "scikit-learn", "numpy", "pandas", "scipy", "skops", "numba", "joblib")


def git_state(folder: str | Path = ".") -> tuple[str | None, bool | None]:
    """(commit, dirty) of the git checkout holding `folder`, or (None, None) outside one.

    Dirty means tracked files differ from the commit; untracked files do not count.
    """
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return None, None
    status = git("status", "--porcelain", "--untracked-files=no")
    return commit.strip(), (bool(status.strip()) if status is not None else None)


def environment() -> dict[str, object]:
    """Python, platform and the versions of the packages a model depends on."""
    packages = {}
    for name in KEY_PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "executable": sys.executable,
        "packages": packages,
    }
