"""Aliases, their history, rollback and tags, through the real `pitboard model` commands."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from core.registry.versions import history, resolve, rollback
from core.store.clock import fixed_clock
from core.store.database import Store
from tests.conftest import T0


def dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


def test_alias_moves_are_kept_with_who_when_why(served, pitboard) -> None:
    assert pitboard("model", "alias", "scoring@2", "challenger", "--reason", "shadow test").exit_code == 0
    moved = pitboard("model", "alias", "scoring@2", "champion", "--reason", "better on recent data")
    assert moved.stdout.strip() == "scoring@champion: v1 -> v2"
    assert pitboard("model", "alias", "scoring", "challenger", "--remove").exit_code == 0
    rows = json.loads(pitboard("model", "history", "scoring", "--json").stdout)
    assert [(r["alias"], r["action"], r["from_version"], r["to_version"], r["reason"]) for r in rows] == [
        ("champion", "set", None, 1, ""),
        ("challenger", "set", None, 2, "shadow test"),
        ("champion", "set", 1, 2, "better on recent data"),
        ("challenger", "remove", 2, None, ""),
    ]
    assert all(r["ts"] == T0 and r["user"] for r in rows)
    with Store.open(served["db"]) as store:
        audit = [(r["action"], r["object"]) for r in store.rows("SELECT action, object FROM audit WHERE action LIKE 'model.%' ORDER BY id")]
        assert resolve(store, "scoring@champion").version == 2
    assert audit[-3:] == [("model.set", "scoring@challenger"), ("model.set", "scoring@champion"), ("model.remove", "scoring@challenger")]


def test_rollback_walks_the_history_back_and_skips_undone_moves(served) -> None:
    with Store.open(served["db"], clock=fixed_clock(T0)) as store:
        from core.registry.versions import move_alias

        v1, v2 = resolve(store, "scoring@1"), resolve(store, "scoring@2")
        move_alias(store, "scoring", "champion", v2, action="set")
        move_alias(store, "scoring", "champion", v1, action="set")
        move_alias(store, "scoring", "champion", v2, action="set")
        steps = [rollback(store, "scoring", reason=f"step {i}")["to"] for i in range(3)]
        assert steps == [1, 2, 1]
        with pytest.raises(Exception, match="had no holder before"):
            rollback(store, "scoring")
        assert [h["action"] for h in history(store, "scoring", "champion")][-3:] == ["rollback"] * 3


def test_rollback_through_the_cli(served, pitboard) -> None:
    assert pitboard("model", "alias", "scoring@2", "champion").exit_code == 0
    back = pitboard("model", "rollback", "scoring", "--reason", "v2 misbehaves", "--json")
    assert back.exit_code == 0
    assert json.loads(back.stdout) | {} == {"model": "scoring", "alias": "champion", "from": 2, "to": 1, "action": "rollback", "forced": False}


def test_tags_on_models_and_versions(served, pitboard) -> None:
    assert pitboard("model", "tag", "scoring", "team=risk").exit_code == 0
    assert pitboard("model", "tag", "scoring@champion", "ticket=RISK-12", "reviewed=yes").exit_code == 0
    assert pitboard("model", "tag", "scoring@1", "--remove", "reviewed").exit_code == 0
    shown = json.loads(pitboard("model", "show", "scoring@1", "--json").stdout)
    assert shown["tags"] == {"ticket": "RISK-12"} and shown["model_tags"] == {"team": "risk"}
    assert shown["aliases"] == ["champion"]


def test_list_and_show(served, pitboard) -> None:
    listed = json.loads(pitboard("model", "list", "--json").stdout)
    assert [(m["name"], m["versions"], m["latest"], m["aliases"]) for m in listed] == [("scoring", 2, 2, "champion=1")]
    shown = json.loads(pitboard("model", "show", "scoring", "--json").stdout)
    assert shown["version"] == 2 and [v["version"] for v in shown["versions"]] == [1, 2]
    text = pitboard("model", "show", "scoring@champion")
    assert text.exit_code == 0 and "scoring version 1" in text.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("model", "show", "nosuch"), "model 'nosuch': not registered; models: scoring"),
        (("model", "show", "scoring@7"), "versions: 1, 2; aliases: champion"),
        (("model", "show", "scoring@staging"), "no such version or alias"),
        (("model", "alias", "scoring@9", "champion"), "no such version or alias"),
        (("model", "alias", "scoring@1", "42"), "an alias cannot be a number"),
        (("model", "alias", "scoring@1", "bad alias!"), "invalid alias"),
        (("model", "alias", "scoring", "staging", "--remove"), "no such alias to remove"),
        (("model", "rollback", "scoring", "--alias", "staging"), "nothing to roll back to"),
        (("model", "tag", "scoring", "novalue"), "write KEY=VALUE"),
        (("model", "promote", "scoring@1", "--to", "champion", "--force"), "--force needs --reason"),
        (("model", "package", "scoring@5", "-o", "x"), "no such version or alias"),
        (("predict", "scoring@1", "missing.csv", "-o", "out.csv"), "missing.csv: no such file"),
        (("bundle", "verify", "nowhere"), "nowhere: no such bundle"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_the_database_unchanged(served, pitboard, args, message) -> None:
    before = dump(served["db"])
    done = pitboard(*args)
    assert done.exit_code == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert dump(served["db"]) == before
