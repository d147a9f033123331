from __future__ import annotations

import pytest

from core.store.clock import iso, parse_time
from core.store.errors import PitboardError
from core.store.refs import Ref, parse_ref


def test_parse_ref_forms() -> None:
    assert parse_ref("credit") == Ref("credit", None)
    assert parse_ref("credit@3").version == 3
    assert parse_ref("credit-risk@champion") == Ref("credit-risk", "champion")
    assert parse_ref("credit-risk@champion").version is None
    assert str(parse_ref("a@2")) == "a@2"


@pytest.mark.parametrize("text", ["", "@1", "a@", "bad name", "a@b c", "../x"])
def test_parse_ref_rejects_bad_text(text: str) -> None:
    with pytest.raises(PitboardError):
        parse_ref(text)


def test_parse_time_accepts_epoch_and_iso() -> None:
    assert parse_time("0") == 0.0
    assert parse_time("2026-01-01T00:00:00Z") == 1_767_225_600.0
    assert parse_time("2026-01-01 00:00:00") == 1_767_225_600.0
    assert iso(1_767_225_600.0) == "2026-01-01 00:00:00"
    with pytest.raises(ValueError, match="not a time"):
        parse_time("yesterday")
