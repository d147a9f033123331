"""Hostile request bodies: every answer is a clean 2xx or 4xx, never a 500 or a traceback.

The real app runs in-process (TestClient runs its lifespan) on a real pipeline. Bodies
come from JSON-like values hypothesis draws, with the shapes the endpoints expect mixed
in, and from raw bytes; derandomized (tests/conftest.py's profile) and bounded.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CLEAN = {200, 400, 401, 404, 405, 408, 413, 415, 422}

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=20), st.sampled_from(["car", "home", "41.5", "", "NaN", "1-1", "99-99"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=10), inner, max_size=4)),
                      max_leaves=20)
fields = st.fixed_dictionaries({}, optional={"income": values, "debt_ratio": values, "purpose": values,
                                              "extra": values})
predict_bodies = st.one_of(values, st.fixed_dictionaries({"records": st.lists(fields, max_size=4)}),
                           st.fixed_dictionaries({"columns": st.dictionaries(
                               st.sampled_from(["income", "debt_ratio", "purpose", "x"]), st.lists(values, max_size=3))}))
feedback_bodies = st.one_of(values, st.fixed_dictionaries({"labels": st.lists(st.fixed_dictionaries(
    {}, optional={"id": values, "label": values, "other": values}), max_size=4)}))


def clean(answer) -> bool:  # type: ignore[no-untyped-def]
    return answer.status_code in CLEAN and "Traceback" not in answer.text


def test_json_bodies_get_clean_answers(client) -> None:
    http, _ = client

    @settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
    @given(predict=predict_bodies, feedback=feedback_bodies)
    def check(predict, feedback) -> None:  # type: ignore[no-untyped-def]
        for path, body in (("/predict", predict), ("/feedback", feedback)):
            answer = http.post(path, content=json.dumps(body, allow_nan=True), headers={"content-type": "application/json"})
            assert clean(answer), (path, body, answer.status_code, answer.text[:300])

    check()


def test_raw_bytes_get_clean_answers(client) -> None:
    http, _ = client

    @settings(max_examples=100)
    @given(raw=st.one_of(st.binary(max_size=200), st.sampled_from([b"[" * 5000, b'{"records": ' + b"[" * 3000, b"\xff\xfe{}"])))
    def check(raw: bytes) -> None:
        for path in ("/predict", "/feedback"):
            answer = http.post(path, content=raw, headers={"content-type": "application/json"})
            assert clean(answer), (path, raw[:60], answer.status_code, answer.text[:300])

    check()
