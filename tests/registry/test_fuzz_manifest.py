"""Bundle manifests mutated by hypothesis: parsed whole, or refused in one line (CheckFailed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from core.registry.manifest import parse_manifest
from core.registry.packaging import export_bundle
from core.store.database import Store
from core.store.errors import PitboardError

leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10),
                   st.sampled_from(["../x", "a@b", "champion\n", "", "x" * 300, "model.skops", "0" * 64]))
values = st.recursive(leaves, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=12)


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside the manifest."""
    found = [prefix] if prefix else []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in children:
        found += paths(child, (*prefix, key))
    return found


def mutated(manifest: dict, path: tuple, action: str, value: Any) -> Any:
    copy = json.loads(json.dumps(manifest))
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    if action == "delete":
        del parent[path[-1]]
    elif action == "replace":
        parent[path[-1]] = value
    elif isinstance(parent, dict):
        parent[f"extra_{path[-1]}"] = value
    return copy


def test_mutated_manifests_parse_or_are_refused_in_one_line(served, tmp_path: Path) -> None:
    with Store.open(served["db"]) as store:
        manifest = export_bundle(store, "scoring@1", tmp_path / "b")
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    where = paths(manifest)

    @settings(max_examples=300)
    @given(picks=st.lists(st.tuples(st.sampled_from(where), st.sampled_from(["delete", "replace", "add"]), values),
                          min_size=1, max_size=3))
    def check(picks: list) -> None:
        data: Any = manifest
        for path, action, value in picks:
            try:
                data = mutated(data, path, action, value)
            except (KeyError, IndexError, TypeError):  # an earlier pick removed this path
                continue
        try:
            parsed = parse_manifest(Path("bundle"), json.dumps(data).encode())
        except PitboardError as exc:
            assert len(str(exc).splitlines()) == 1 and str(exc).startswith("bundle: manifest.json"), str(exc)
            return
        assert parsed == data

    check()
