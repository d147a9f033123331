"""Where numba caches compiled kernels when neither the install nor the home can be written.

Paths under a regular file can be created by no one, root included: they stand for the
read-only install and the missing home. The whole story as the user nobody is in
tests/store/test_filesystem_faults.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.kernels._cache import choose


@pytest.fixture
def nowhere(tmp_path: Path) -> Path:
    (tmp_path / "a-file").write_text("")
    return tmp_path / "a-file"


def test_numba_keeps_its_own_choice_when_it_has_one(tmp_path: Path, nowhere: Path) -> None:
    assert choose(tmp_path / "in-tree", nowhere / "home", tmp_path / "spare") == (None, True, "")
    assert choose(nowhere / "in-tree", tmp_path / "home", tmp_path / "spare") == (None, True, "")
    assert not (tmp_path / "spare").exists()


def test_with_neither_a_private_temporary_folder_is_used_and_announced_once(tmp_path: Path, nowhere: Path) -> None:
    spare = tmp_path / "spare"
    folder, cache, said = choose(nowhere / "in-tree", nowhere / "home", spare)
    assert (folder, cache) == (spare, True) and spare.stat().st_mode & 0o777 == 0o700
    assert said == (f"pitboard: numba cannot write its cache beside pitboard ({nowhere / 'in-tree'}) or in"
                    f" {nowhere / 'home'}; compiled kernels are cached in {spare} (set NUMBA_CACHE_DIR to choose)")
    assert choose(nowhere / "in-tree", nowhere / "home", spare) == (spare, True, "")  # said once


def test_a_temporary_folder_others_may_write_is_never_used(tmp_path: Path, nowhere: Path) -> None:
    spare = tmp_path / "spare"
    spare.mkdir()
    spare.chmod(0o777)  # machine code loaded from here could be anyone's
    folder, cache, said = choose(nowhere / "in-tree", nowhere / "home", spare)
    assert (folder, cache) == (None, False)
    assert said.startswith("pitboard: no writable cache folder for numba") and "compiled in every process" in said
