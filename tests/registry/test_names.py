"""Every command that takes a name refuses the same table of bad names, in one line, changing nothing.

The table is the class of the bug, not its one example: `champion\\n` once became a second
alias that printed exactly like `champion`, because the name pattern ended in `$`, which
also matches before a final newline. Each command is tried with every bad name through
the real CLI, after a good name has shown the same command succeeds on the same database.
It lives with the registry's tests for their trained database, though `data add` and
`train` are in the table too.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

BAD_NAMES = {
    "trailing newline": "credit2\n",
    "leading space": " credit2",
    "trailing space": "credit2 ",
    "inner space": "credit 2",
    "empty": "",
    "at sign": "a@b",
    "parent folder": "../x",
    "slash": "a/b",
    "NUL": "cre\x00dit",
    "escape": "cre\x1b[31mdit",
    "tab": "credit\t",
    "carriage return": "credit2\r",
    "leading dot": ".credit",
    "non-ASCII letter": "crédit",
    "non-ASCII digit": "credit\u0663",
    "very long": "n" * 129,
    "huge": "n" * 10_000,
}

SPEC = """
experiment = {experiment}
dataset = "credit"
target = "default"

[[candidates]]
estimator = "LogisticRegression"
"""


def dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


# Each command as (arguments with NAME in place of the name, a good name it accepts).
COMMANDS: dict[str, tuple[Callable[[str, Path], tuple[str, ...]], str]] = {
    "data add": (lambda name, tmp: ("data", "add", name, tmp / "small.csv"), "credit2"),
    "model register": (lambda name, tmp: ("model", "register", "{good_run}", "--name", name), "credit-risk-2"),
    "model alias": (lambda name, tmp: ("model", "alias", "credit-risk@1", name), "challenger"),
    "model promote --to": (lambda name, tmp: ("model", "promote", "credit-risk@1", "--to", name, "--force", "--reason", "test"), "staging"),
    "model tag (key)": (lambda name, tmp: ("model", "tag", "credit-risk@1", f"{name}=value"), "team"),
    "train (experiment)": (lambda name, tmp: ("train", _spec(tmp, name)), None),
}


def _spec(tmp: Path, experiment: str) -> Path:
    path = tmp / "spec.toml"
    path.write_text(SPEC.format(experiment=json.dumps(experiment)))  # a JSON string is a TOML basic string
    return path


@pytest.fixture
def registry(trained, pitboard, tmp_path: Path):
    """The trained database with `credit-risk@1` registered, and a small CSV to add."""
    assert pitboard("model", "register", trained.good_run, "--name", "credit-risk").exit_code == 0
    (tmp_path / "small.csv").write_text("x,y\n1,0\n2,1\n3,0\n")
    return trained


def _args(command: str, name: str, tmp_path: Path, registry) -> tuple[str, ...]:
    build, _ = COMMANDS[command]
    return tuple(str(arg).replace("{good_run}", str(registry.good_run)) for arg in build(name, tmp_path))


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_bad_name_is_refused_in_one_line_and_the_database_is_unchanged(
        registry, pitboard, tmp_path: Path, command: str) -> None:
    for case, name in BAD_NAMES.items():
        before = dump(registry.db)
        done = pitboard(*_args(command, name, tmp_path, registry))
        assert done.exit_code == 2, (case, done.stdout, done.stderr)
        lines = done.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), (case, done.stderr)
        assert repr(name)[:60] in lines[0], (case, lines[0])
        assert len(lines[0]) < 400, (case, "a huge name is cut, not echoed whole")
        assert dump(registry.db) == before, case
    _, good = COMMANDS[command]
    if good is not None:  # the same command with a good name succeeds on the same database
        done = pitboard(*_args(command, good, tmp_path, registry))
        assert done.exit_code == 0, done.stderr


def test_a_second_alias_ending_in_a_newline_cannot_shadow_champion(registry, pitboard) -> None:
    assert pitboard("model", "alias", "credit-risk@1", "champion").exit_code == 0
    refused = pitboard("model", "alias", "credit-risk@1", "champion\n")
    assert refused.exit_code == 2 and "invalid alias 'champion\\n'" in refused.stderr
    shown = json.loads(pitboard("model", "show", "credit-risk@1", "--json").stdout)
    assert shown["aliases"] == ["champion"]


@pytest.mark.parametrize("text", ["credit@1\n", "credit@champion\n", "credit@champion ", "credit@" + "a" * 200])
def test_a_reference_with_a_bad_selector_is_refused(text: str) -> None:
    from core.store.errors import PitboardError
    from core.store.refs import parse_ref

    with pytest.raises(PitboardError, match="bad version or alias"):
        parse_ref(text)
