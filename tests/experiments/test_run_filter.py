"""The MLflow-syntax filter parser: SQL shape, errors with positions, injection safety.

Query semantics against real runs are tested in tests/experiments/test_runs.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.experiments.run_filter import like_to_glob, parse_filter, parse_sort, tokenize
from core.store.errors import PitboardError


def test_and_binds_tighter_than_or_and_parentheses_group() -> None:
    flat = parse_filter("metrics.a > 1 or metrics.b > 2 and metrics.c > 3")
    assert flat.sql.startswith("(EXISTS") and " OR (EXISTS" in flat.sql
    assert flat.params == ("a", 1.0, "b", 2.0, "c", 3.0)
    grouped = parse_filter("(metrics.a > 1 or metrics.b > 2) and metrics.c > 3")
    assert grouped.sql.startswith("((EXISTS") and grouped.sql.count(" AND EXISTS") == 1


def test_every_value_and_key_is_a_bound_parameter() -> None:
    condition = parse_filter("params.classifier = 'RandomForestClassifier' and tags.`odd key` != \"x\" and attributes.status IN ('FINISHED', 'FAILED')")
    assert "RandomForestClassifier" not in condition.sql and "odd key" not in condition.sql
    assert condition.params == ("classifier", "RandomForestClassifier", "odd key", "x", "FINISHED", "FAILED")


def test_keywords_and_entities_are_case_insensitive_and_aliases_work() -> None:
    a = parse_filter("metric.auc >= 0.5 AND param.x = '1' Or attr.status = 'FINISHED'")
    b = parse_filter("metrics.auc >= 0.5 and params.x = '1' or attributes.status = 'FINISHED'")
    assert a == b


def test_like_is_case_sensitive_glob_and_ilike_is_like() -> None:
    assert "GLOB ?" in parse_filter("tags.x LIKE '%y_'").sql
    assert parse_filter("tags.x LIKE '%y_'").params == ("x", "*y?")
    assert "LIKE ?" in parse_filter("tags.x ILIKE '%Y%'").sql
    assert like_to_glob("a*b?[c]%_") == "a[*]b[?][[]c]*?"


def test_doubled_quotes_are_literal_quotes() -> None:
    condition = parse_filter("params.x = 'a'' ; DROP TABLE runs --'")
    assert condition.params == ("x", "a' ; DROP TABLE runs --")


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("params.x = 'a' ; DROP TABLE runs --'", 16, "unexpected character ';'"),
        ("metrics.roc_auc > and", 19, "expected a number for metrics.roc_auc, got 'and'"),
        ("metrics.roc_auc > 0.8 and", 26, "expected a key such as metrics.roc_auc or params.classifier, got the end"),
        ("(metrics.a > 1", 15, "expected ')', got the end"),
        ("metrics.a > 1)", 14, "expected 'and', 'or' or the end, got ')'"),
        ("params.x = 1", 12, "expected a quoted string for params.x"),
        ("metrics.a LIKE '%x'", 11, "LIKE does not apply to metrics.a"),
        ("colour.red = 'x'", 1, "unknown entity 'colour'"),
        ("attributes.colour = 'x'", 1, "unknown attribute 'colour'"),
        ("roc_auc > 1", 1, "expected ENTITY.KEY"),
        ("params.x 'a'", 10, "expected a comparison operator"),
        ("params.x = 'unterminated", 12, "unexpected character \"'\""),
        ("", 1, "expected a comparison"),
    ],
)
def test_syntax_errors_show_the_position_with_a_caret(text: str, position: int, message: str) -> None:
    with pytest.raises(PitboardError) as caught:
        parse_filter(text)
    first, echoed, caret = str(caught.value).split("\n")
    assert first.startswith(f"filter: {message}") and first.endswith(f"at position {position}")
    assert echoed == f"  {text}"
    assert caret == "  " + " " * (position - 1) + "^"


def test_sort_keys() -> None:
    assert parse_sort("-metrics.roc_auc") == (
        "(SELECT value FROM metrics WHERE metrics.run_id = runs.id AND metrics.key = ?)", ("roc_auc",), True)
    assert parse_sort("attributes.started_at") == ("runs.started_at", (), False)
    assert parse_sort("params.x DESC")[2] is True
    with pytest.raises(PitboardError, match="unknown attribute 'nope'"):
        parse_sort("attributes.nope")
    with pytest.raises(PitboardError, match="not a key"):
        parse_sort("metrics.a; DROP TABLE runs")


@given(st.text(max_size=60))
def test_any_text_either_parses_to_placeholders_or_fails_cleanly(text: str) -> None:
    try:
        condition = parse_filter(text)
    except PitboardError as exc:
        assert str(exc).startswith("filter: ")
        return
    assert condition.sql.count("?") == len(condition.params)
    assert ";" not in condition.sql and "--" not in condition.sql


def test_tokens_keep_positions() -> None:
    tokens = tokenize("metrics.a>=-1e-3")
    assert [(t.kind, t.pos) for t in tokens] == [("ident", 0), ("op", 9), ("number", 11), ("end", 16)]
    assert tokens[2].value == -0.001


def test_control_characters_are_not_echoed_into_the_terminal() -> None:
    with pytest.raises(PitboardError) as raised:
        parse_filter("metrics.a > \x1b[2J\x85")
    lines = str(raised.value).splitlines()
    assert len(lines) == 3 and "\x1b" not in str(raised.value) and lines[1] == "  metrics.a > ?[2J?"
    assert lines[2] == "  " + " " * 12 + "^"
