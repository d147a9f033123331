"""Inputs deep or long enough to break a parser: a run filter 400 parentheses deep or 2,000
terms long, a spec nested 5,000 levels. Each is an error at the token that crosses a bound,
never a RecursionError or an SQLite limit, and every filter within the bounds runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.experiments.run_filter import MAX_COMPARISONS, MAX_DEPTH, MAX_VALUES, parse_filter
from core.experiments.runs import list_runs
from core.experiments.specs import parse_spec
from core.store.database import Store
from core.store.errors import PitboardError
from tests.conftest import file_bytes

TERM = "metrics.a > 1"


def error_of(text: str) -> list[str]:
    with pytest.raises(PitboardError) as caught:
        parse_filter(text)
    return str(caught.value).split("\n")


def test_parentheses_400_deep_are_refused_at_the_eleventh() -> None:
    text = "(" * 400 + TERM + ")" * 400
    first, echoed, caret = error_of(text)
    assert first == f"filter: parentheses nested deeper than {MAX_DEPTH} at position 11"
    assert echoed == "  " + "(" * 120 + "..." and caret == "  " + " " * 10 + "^"


def test_two_thousand_terms_are_refused_at_the_first_too_many() -> None:
    text = " or ".join([TERM] * 2000)
    position = len(" or ".join([TERM] * MAX_COMPARISONS)) + len(" or ")
    first, echoed, caret = error_of(text)
    assert first == f"filter: more than {MAX_COMPARISONS} comparisons at position {position + 1}"
    assert echoed.startswith("  ...") and echoed.endswith("...") and len(echoed) == 2 + 3 + 120 + 3
    assert echoed[caret.index("^")] == "m"  # the caret points at the term that crossed the bound


def test_in_lists_are_bounded_in_all() -> None:
    values = ", ".join(["'v'"] * (MAX_VALUES // 2 + 1))
    first = error_of(f"tags.x IN ({values}) or tags.y IN ({values})")[0]
    assert first.startswith(f"filter: more than {MAX_VALUES} values in IN lists at position ")


def test_the_largest_filters_within_the_bounds_run_in_sqlite(store: Store) -> None:
    nested = " or ".join(["attributes.experiment IN ('a', 'b')"] * (MAX_COMPARISONS - MAX_DEPTH))
    for level in range(MAX_DEPTH):
        nested = f"(metrics.b > 1 {'and' if level % 2 else 'or'} {nested})"
    for text in (nested, " and ".join([TERM] * MAX_COMPARISONS),
                 "tags.x IN (" + ", ".join(["'v'"] * MAX_VALUES) + ")"):
        assert list_runs(store, filter=text) == []


@pytest.mark.parametrize(("text", "message"), [
    ("(" * 400 + TERM + ")" * 400, f"parentheses nested deeper than {MAX_DEPTH} at position 11"),
    (" or ".join([TERM] * 2000), f"more than {MAX_COMPARISONS} comparisons at position 3401"),
])
def test_runs_list_refuses_them_with_exit_2(pitboard, db_path: Path, text: str, message: str) -> None:
    Store.open(db_path).close()
    before = file_bytes(db_path)
    result = pitboard("runs", "list", "--filter", text)
    assert result.exit_code == 2 and result.stderr.startswith(f"Error: filter: {message}\n")
    assert result.stderr.count("\n") == 3 and "Traceback" not in result.stderr
    assert file_bytes(db_path) == before


def test_a_spec_nested_5000_deep_is_invalid_toml(pitboard, tmp_path: Path) -> None:
    text = 'experiment = "x"\ndataset = "credit"\nseed = ' + "[" * 5000 + "]" * 5000 + "\n"
    with pytest.raises(PitboardError, match=r"^deep\.toml: not valid TOML \(arrays or tables nested too deeply\)$"):
        parse_spec(text, "deep.toml")
    (tmp_path / "deep.toml").write_text(text)
    result = pitboard("train", tmp_path / "deep.toml")
    assert (result.exit_code, result.stderr) == (2, "Error: deep.toml: not valid TOML (arrays or tables nested too deeply)\n")
