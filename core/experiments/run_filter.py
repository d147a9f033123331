"""MLflow's run search syntax, parsed by hand into parameterised SQL.

    metrics.roc_auc > 0.8 and params.classifier = 'RandomForestClassifier'
    attributes.status = 'FINISHED' or (tags.note LIKE '%baseline%' and metrics.rmse < 3)

A tokenizer and a recursive-descent parser turn the expression into a SQL condition on
`runs` whose every user-supplied value is a bound parameter; keys go into parameters too,
and attribute names are looked up in a fixed table, so nothing the user types is ever
pasted into SQL. A syntax error names the position and shows it with a caret.

Semantics follow MLflow: a comparison on a metric, param or tag only matches runs that
have that key; metrics compare as numbers, params and tags as strings (quote them);
LIKE is case-sensitive, ILIKE is not. `and` binds tighter than `or`.

Size is bounded (`MAX_DEPTH`, `MAX_COMPARISONS`, `MAX_VALUES`): the parser recurses once
per parenthesis, SQLite's parser overflows its stack on about 27 nested groups and its
expression tree on about 1,000 terms, and a query binds at most 32,766 values. A filter
past a bound is a syntax error at the token that crosses it, so neither Python's nor
SQLite's limits are ever reached, whatever is typed or pasted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from core.store.errors import PitboardError

ENTITIES = {
    "metrics": "metric", "metric": "metric",
    "params": "param", "param": "param", "parameters": "param", "parameter": "param",
    "tags": "tag", "tag": "tag",
    "attributes": "attribute", "attribute": "attribute", "attr": "attribute", "run": "attribute",
}
_SIDE_TABLES = {"metric": "metrics", "param": "params", "tag": "tags"}

# attribute name -> (SQL expression over `runs`, kind); the only SQL built from user words.
ATTRIBUTES: dict[str, tuple[str, str]] = {
    "id": ("runs.id", "number"),
    "run_id": ("runs.id", "number"),
    "status": ("runs.status", "string"),
    "task": ("runs.task", "string"),
    "estimator": ("runs.estimator", "string"),
    "experiment": ("(SELECT name FROM experiments WHERE experiments.id = runs.experiment_id)", "string"),
    "search_id": ("runs.search_id", "number"),
    "candidate": ("runs.candidate", "number"),
    "primary_metric": ("runs.primary_metric", "string"),
    "dataset_version_id": ("runs.dataset_version_id", "number"),
    "git_commit": ("runs.git_commit", "string"),
    "model_sha256": ("runs.model_sha256", "string"),
    "seed": ("runs.seed", "number"),
    "started_at": ("runs.started_at", "number"),
    "start_time": ("runs.started_at", "number"),
    "ended_at": ("runs.ended_at", "number"),
    "end_time": ("runs.ended_at", "number"),
    "duration": ("runs.duration", "number"),
}

MAX_DEPTH = 10  # parentheses inside parentheses
MAX_COMPARISONS = 200
MAX_VALUES = 10_000  # values in IN lists, all together
ECHO_CHARS = 60  # of the filter shown on each side of an error's position

NUMERIC_OPS = ("=", "!=", "<", "<=", ">", ">=")
STRING_OPS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
KEYWORDS = ("AND", "OR", "LIKE", "ILIKE", "IN", "NOT")

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_.\-/]*(?:`[^`]*`)?)
  | (?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # number | ident | string | op | punct | keyword | end
    text: str
    pos: int
    value: Any = None


@dataclass(frozen=True)
class Condition:
    """A SQL condition on `runs` and the values bound to its placeholders."""

    sql: str
    params: tuple[Any, ...]


def _error(text: str, pos: int, message: str) -> PitboardError:
    start = max(0, min(pos - ECHO_CHARS, len(text) - 2 * ECHO_CHARS))
    # Control characters are shown as "?": echoed raw, one could move the cursor or clear the
    # terminal, or break the message's three lines; one column each keeps the caret in place.
    shown = "".join(c if c.isprintable() else "?" for c in text[start:start + 2 * ECHO_CHARS])
    before, after = ("..." if start else ""), ("..." if start + 2 * ECHO_CHARS < len(text) else "")
    caret = len(before) + pos - start
    return PitboardError(f"filter: {message} at position {pos + 1}\n  {before}{shown}{after}\n  {' ' * caret}^")


def tokenize(text: str) -> list[Token]:
    """The tokens of `text`, ending with an `end` token."""
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise _error(text, pos, f"unexpected character {text[pos]!r}")
        kind, raw = match.lastgroup, match.group()
        if kind == "string":
            quote = raw[0]
            tokens.append(Token("string", raw, pos, raw[1:-1].replace(quote * 2, quote)))
        elif kind == "number":
            tokens.append(Token("number", raw, pos, float(raw)))
        elif kind == "ident" and raw.upper() in KEYWORDS:
            tokens.append(Token("keyword", raw, pos, raw.upper()))
        elif kind == "op":
            tokens.append(Token("op", raw, pos, "!=" if raw == "<>" else raw))
        elif kind != "space":
            tokens.append(Token(kind, raw, pos, raw))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def split_key(text: str, token: Token) -> tuple[str, str]:
    """`metrics.roc_auc` -> ("metric", "roc_auc"); backticks quote odd keys."""
    entity, dot, key = token.value.partition(".")
    if not dot or not key:
        raise _error(text, token.pos, f"expected ENTITY.KEY (metrics., params., tags. or attributes.), got {token.text!r}")
    if entity.lower() not in ENTITIES:
        raise _error(text, token.pos, f"unknown entity {entity!r}; use metrics, params, tags or attributes")
    if key.startswith("`") and key.endswith("`") and len(key) >= 2:
        key = key[1:-1]
    return ENTITIES[entity.lower()], key


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0
        self.comparisons = 0
        self.values = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.current
        self.index += 1
        return token

    def keyword(self, word: str) -> bool:
        if self.current.kind == "keyword" and self.current.value == word:
            self.advance()
            return True
        return False

    def fail(self, message: str, token: Token | None = None) -> PitboardError:
        token = token or self.current
        got = "the end" if token.kind == "end" else repr(token.text)
        return _error(self.text, token.pos, f"{message}, got {got}")

    def parse(self) -> Condition:
        if self.current.kind == "end":
            raise self.fail("expected a comparison such as metrics.roc_auc > 0.8")
        sql, params = self.disjunction()
        if self.current.kind != "end":
            raise self.fail("expected 'and', 'or' or the end")
        return Condition(sql, tuple(params))

    def disjunction(self) -> tuple[str, list[Any]]:
        parts = [self.conjunction()]
        while self.keyword("OR"):
            parts.append(self.conjunction())
        return self.join(parts, " OR ")

    def conjunction(self) -> tuple[str, list[Any]]:
        parts = [self.primary()]
        while self.keyword("AND"):
            parts.append(self.primary())
        return self.join(parts, " AND ")

    @staticmethod
    def join(parts: list[tuple[str, list[Any]]], glue: str) -> tuple[str, list[Any]]:
        if len(parts) == 1:
            return parts[0]
        return "(" + glue.join(sql for sql, _ in parts) + ")", [p for _, params in parts for p in params]

    def primary(self) -> tuple[str, list[Any]]:
        if self.current.kind == "punct" and self.current.value == "(":
            if self.depth == MAX_DEPTH:
                raise _error(self.text, self.current.pos, f"parentheses nested deeper than {MAX_DEPTH}")
            self.advance()
            self.depth += 1
            inner = self.disjunction()
            self.depth -= 1
            if not (self.current.kind == "punct" and self.current.value == ")"):
                raise self.fail("expected ')'")
            self.advance()
            return inner
        return self.comparison()

    def comparison(self) -> tuple[str, list[Any]]:
        token = self.current
        if token.kind != "ident":
            raise self.fail("expected a key such as metrics.roc_auc or params.classifier")
        self.comparisons += 1
        if self.comparisons > MAX_COMPARISONS:
            raise _error(self.text, token.pos, f"more than {MAX_COMPARISONS} comparisons")
        self.advance()
        entity, key = split_key(self.text, token)
        if entity == "attribute":
            if key not in ATTRIBUTES:
                raise _error(self.text, token.pos, f"unknown attribute {key!r}; valid: {', '.join(ATTRIBUTES)}")
            column, kind = ATTRIBUTES[key]
        else:
            column, kind = "value", "number" if entity == "metric" else "string"
        op_token = self.current
        op = self.operator()
        allowed = NUMERIC_OPS if kind == "number" else STRING_OPS
        if op not in allowed:
            raise _error(self.text, op_token.pos, f"{op} does not apply to {token.text}; use one of {', '.join(allowed)}")
        condition, params = self.operand(column, op, kind, token.text)
        if entity == "attribute":
            return condition, params
        table = _SIDE_TABLES[entity]
        return (
            f"EXISTS (SELECT 1 FROM {table} WHERE {table}.run_id = runs.id AND {table}.key = ? AND {condition})",
            [key, *params],
        )

    def operator(self) -> str:
        token = self.advance()
        if token.kind == "op":
            return token.value
        if token.kind == "keyword" and token.value in ("LIKE", "ILIKE", "IN"):
            return token.value
        if token.kind == "keyword" and token.value == "NOT" and self.keyword("IN"):
            return "NOT IN"
        raise self.fail("expected a comparison operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN)", token)

    def operand(self, column: str, op: str, kind: str, name: str) -> tuple[str, list[Any]]:
        if op in ("IN", "NOT IN"):
            values = self.value_list(kind, name)
            marks = ", ".join("?" * len(values))
            return f"{column} {op} ({marks})", values
        value = self.value(kind, name)
        if op == "LIKE":  # case-sensitive, as in MLflow: SQLite's GLOB is, its LIKE is not
            return f"{column} GLOB ?", [like_to_glob(value)]
        if op == "ILIKE":
            return f"{column} LIKE ?", [value]
        return f"{column} {op} ?", [value]

    def value(self, kind: str, name: str) -> Any:
        token = self.current
        wanted = "number" if kind == "number" else "string"
        if token.kind != wanted:
            hint = f"a number for {name}" if kind == "number" else f"a quoted string for {name} (e.g. '0.1')"
            raise self.fail(f"expected {hint}")
        self.advance()
        return token.value

    def value_list(self, kind: str, name: str) -> list[Any]:
        if not (self.current.kind == "punct" and self.current.value == "("):
            raise self.fail("expected '(' to start a list of values")
        self.advance()
        values = [self.value(kind, name)]
        while self.current.kind == "punct" and self.current.value == ",":
            self.advance()
            if self.values + len(values) == MAX_VALUES:
                raise _error(self.text, self.current.pos, f"more than {MAX_VALUES} values in IN lists")
            values.append(self.value(kind, name))
        self.values += len(values)
        if not (self.current.kind == "punct" and self.current.value == ")"):
            raise self.fail("expected ',' or ')' in the list of values")
        self.advance()
        return values


def like_to_glob(pattern: str) -> str:
    """An SQL LIKE pattern (% and _) as the equivalent case-sensitive GLOB pattern."""
    out = []
    for char in pattern:
        if char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        elif char in "*?[":
            out.append(f"[{char}]")
        else:
            out.append(char)
    return "".join(out)


def parse_filter(text: str) -> Condition:
    """The SQL condition on `runs` for an MLflow-style filter expression."""
    return _Parser(text).parse()


_SORT = re.compile(r"^\s*(-?)\s*(.+?)(?:\s+(asc|desc))?\s*$", re.IGNORECASE)


def parse_sort(text: str) -> tuple[str, tuple[Any, ...], bool]:
    """(SQL expression, its parameters, descending) for `[-]ENTITY.KEY [ASC|DESC]`."""
    usage = f"sort: {text!r} is not a key; use e.g. -metrics.roc_auc or attributes.started_at"
    match = _SORT.match(text)
    if not match:
        raise PitboardError(usage)
    minus, key_text, direction = match.groups()
    descending = direction.upper() == "DESC" if direction else bool(minus)
    try:
        tokens = tokenize(key_text)
    except PitboardError:
        raise PitboardError(usage) from None
    if len(tokens) != 2 or tokens[0].kind != "ident":
        raise PitboardError(usage)
    try:
        entity, key = split_key(key_text, tokens[0])
    except PitboardError:
        raise PitboardError(usage) from None
    if entity == "attribute":
        if key not in ATTRIBUTES:
            raise PitboardError(f"sort: unknown attribute {key!r}; valid: {', '.join(ATTRIBUTES)}")
        return ATTRIBUTES[key][0], (), descending
    table = _SIDE_TABLES[entity]
    return f"(SELECT value FROM {table} WHERE {table}.run_id = runs.id AND {table}.key = ?)", (key,), descending
