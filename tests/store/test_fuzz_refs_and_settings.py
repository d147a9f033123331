"""References and pitboard.toml from hypothesis: a clean result or one clean error line."""

from __future__ import annotations

import importlib
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from core.store.database import Store
from core.store.errors import PitboardError
from core.store.refs import parse_ref, validate_name
from tests.test_readme import SECTIONS

names = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


@given(text=st.one_of(names, st.tuples(names, st.sampled_from(["@", "@@", "@1", "@champion"]), names).map("".join)))
def test_references_parse_to_valid_names_or_fail_in_one_line(text: str) -> None:
    try:
        ref = parse_ref(text)
    except PitboardError as exc:
        assert len(str(exc).splitlines()) == 1, str(exc)
        return
    validate_name(ref.name, "name")  # what parses names a valid model or dataset
    assert "\n" not in text


toml_values = st.one_of(
    st.integers(-10**30, 10**30).map(str), st.floats().map(lambda f: {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(repr(f), repr(f))),
    st.booleans().map(lambda b: str(b).lower()), st.text(max_size=8).map(lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'),
    st.sampled_from(["[]", "[1, 2]", '["a"]', "{}", "{ x = 1 }", "1979-05-27", "-0.0", "1e400", "0x10", '""']),
)


def test_any_settings_file_is_read_or_refused_in_one_line(tmp_path: Path) -> None:
    sections = {name: importlib.import_module(module) for name, module in SECTIONS.items()}
    keys = sorted({key for module in sections.values() for key in module.DEFAULTS} | {"bogus"})

    @given(section=st.sampled_from(sorted(sections)), lines=st.lists(
        st.one_of(st.tuples(st.sampled_from(keys), toml_values).map(lambda kv: f"{kv[0]} = {kv[1]}"),
                  st.sampled_from(["[x]", "[monitoring.credit-risk]", "[[y]]"]), st.text(max_size=20)), max_size=6))
    def check(section: str, lines: list[str]) -> None:
        (tmp_path / "pitboard.toml").write_text(f"[{section}]\n" + "\n".join(lines) + "\n", encoding="utf-8")
        module = sections[section]
        with Store.open(tmp_path / "pitboard.db") as store:
            try:
                found = store.settings(section, module.DEFAULTS, getattr(module, "RANGES", None))
            except PitboardError as exc:
                assert len(str(exc).splitlines()) == 1 and "pitboard.toml" in str(exc), str(exc)
                return
        assert set(found) == set(module.DEFAULTS)

    check()
