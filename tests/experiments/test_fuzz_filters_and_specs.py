"""Run filters and specs from hypothesis: a clean result or one clean error, never a traceback.

Filters are drawn from their grammar (so most of them parse) and run against a real
SQLite database, where SQLite's own limits (expression depth and size) would surface; specs are drawn
as TOML lines from the spec's vocabulary mixed with junk.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.experiments.run_filter import ATTRIBUTES
from core.experiments.runs import list_runs
from core.experiments.specs import Spec, parse_spec
from core.store.errors import PitboardError
from tests.experiments.helpers import SMALL_SPEC

numbers = st.one_of(st.integers(-10**20, 10**20), st.floats(allow_nan=False, allow_infinity=False)).map(repr)
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8).map(lambda s: "'" + s.replace("'", "''") + "'")
keys = st.sampled_from(["roc_auc", "rmse", "C", "max_depth", "note", "a.b", "`odd key`", "x" * 40])
comparisons = st.one_of(
    st.tuples(st.just("metrics."), keys, st.sampled_from(["<", "<=", ">", ">=", "=", "!="]), numbers),
    st.tuples(st.just("params."), keys, st.sampled_from(["=", "!=", "LIKE", "ILIKE"]), texts),
    st.tuples(st.just("tags."), keys, st.sampled_from(["=", "LIKE"]), texts),
    st.tuples(st.just("attributes."), st.sampled_from(sorted(ATTRIBUTES)), st.sampled_from(["=", "!=", "IN", "NOT IN"]),
              st.lists(texts, min_size=1, max_size=3).map(lambda v: "(" + ", ".join(v) + ")")),
).map(lambda t: f"{t[0]}{t[1]} {t[2]} {t[3]}")
filters = st.recursive(comparisons, lambda inner: st.one_of(
    st.tuples(inner, st.sampled_from([" and ", " or ", " AND ", " Or "]), inner).map("".join),
    inner.map(lambda f: f"({f})")), max_leaves=40)


def test_filters_list_runs_or_fail_cleanly(store) -> None:
    @given(text=st.one_of(filters, st.text(max_size=80)))
    def check(text: str) -> None:
        try:
            found = list_runs(store, filter=text)
        except PitboardError as exc:
            lines = str(exc).splitlines()  # the message, then the filter and a caret under the fault
            assert lines[0].startswith("filter: ") and " at position " in lines[0] and len(lines) <= 3, str(exc)
            return
        assert found == []  # a fresh database: the query ran, and found nothing

    check()


spec_lines = st.one_of(
    st.sampled_from([
        'experiment = "e"', 'dataset = "credit@1"', 'dataset = "@"', 'target = "default"', 'task = "regression"',
        'primary_metric = "f1"', "seed = -1", "seed = 1e400", "[split]", 'method = "time"', "test_size = 1.5",
        "[search]", "cv = 1", "n_iter = 0", 'method = "random"', "[preprocessing]", 'scale = "nope"', "[features]",
        'include = []', 'exclude = ["x", 1]', "[[candidates]]", 'estimator = "Ridge"', 'estimator = "os.system"',
        "params = { alpha = [1.0, -1.0] }", 'params = { C = { dist = "loguniform", low = 0, high = 1 } }',
        "params = { n_estimators = [0] }", 'params = { max_depth = ["None", 3] }', "params = 3", "[[candidates]]",
        'estimator = "RandomForestClassifier"', "candidates = 1", "[weird]", "x = [[[[[[]]]]]]",
    ]),
    st.text(max_size=30),
)


@given(lines=st.lists(spec_lines, max_size=14), keep=st.booleans())
def test_specs_parse_or_fail_cleanly(lines: list[str], keep: bool) -> None:
    text = (SMALL_SPEC + "\n" if keep else "") + "\n".join(lines)
    try:
        spec = parse_spec(text, "fuzz.toml")
    except PitboardError as exc:
        assert str(exc).startswith("fuzz.toml: ") and "\n" not in str(exc).strip(), str(exc)
        return
    assert isinstance(spec, Spec) and spec.candidates
