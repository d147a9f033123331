"""The same fitted model always dumps to the same bytes, so its SHA-256 names it.

skops names objects by memory address and stamps zip entries with the time; tree models
also carry uninitialised padding in their node records. A deep copy has other addresses
(and freshly allocated records), so dumping a model and its copy is the real test.
"""

from __future__ import annotations

import copy
import io
import time
import zipfile

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from core.experiments.modelio import UntrustedModelError, dump_model, load_model

RNG = np.random.default_rng(7)
X = RNG.normal(size=(300, 4))
Y_CLASS = (X[:, 0] + X[:, 1] > 0).astype(int)
Y_VALUE = X @ np.array([1.0, -2.0, 0.5, 0.0])


def _models() -> list[tuple[str, object, np.ndarray]]:
    return [
        ("scaled logistic", make_pipeline(StandardScaler(), LogisticRegression()), Y_CLASS),
        ("boosted trees", HistGradientBoostingClassifier(max_iter=10, random_state=0), Y_CLASS),
        ("forest (padded node records)", RandomForestRegressor(n_estimators=4, random_state=0), Y_VALUE),
        ("k-d tree", KNeighborsClassifier(n_neighbors=3), Y_CLASS),
    ]


@pytest.mark.parametrize(("name", "model", "y"), _models(), ids=[m[0] for m in _models()])
def test_dumping_twice_gives_identical_bytes_that_load_to_the_same_predictions(name, model, y):
    model.fit(X, y)
    first = dump_model(model)
    again = dump_model(copy.deepcopy(model))
    assert first == again, name
    loaded = load_model(first)
    predict = getattr(model, "predict_proba", model.predict)
    assert np.array_equal(getattr(loaded, "predict_proba", loaded.predict)(X), predict(X))


def test_the_archive_has_sorted_entries_a_fixed_time_and_small_names(monkeypatch):
    model = HistGradientBoostingClassifier(max_iter=3, random_state=0).fit(X, Y_CLASS)
    first = dump_model(model)
    later = time.time() + 3 * 3600
    monkeypatch.setattr(time, "time", lambda: later)  # a dump hours later: skops' zip would stamp it
    with zipfile.ZipFile(io.BytesIO(dump_model(model))) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names) and "schema.json" in names
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}
    assert all(len(n) < 12 for n in names)  # counters, not memory addresses
    assert dump_model(model) == first


def test_an_object_used_twice_is_still_one_object_after_renumbering():
    scaler = StandardScaler()
    model = make_pipeline(scaler, scaler, LogisticRegression()).fit(X, Y_CLASS)
    loaded = load_model(dump_model(model))
    assert loaded.steps[0][1] is loaded.steps[1][1]
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert dump_model(model) == dump_model(copy.deepcopy(model))


def test_the_safety_check_still_refuses_untrusted_types():
    import os

    from sklearn.preprocessing import FunctionTransformer

    with pytest.raises(UntrustedModelError, match=r"refusing to load untrusted type \w*\.system"):
        load_model(dump_model(FunctionTransformer(func=os.system)))


@pytest.mark.slow
def test_training_the_same_spec_twice_registers_the_same_model_bytes(served):
    from core.experiments.specs import parse_spec
    from core.experiments.training import train_spec
    from tests.monitoring.conftest import SPEC

    store = served.open()
    first = store.value("SELECT model_sha256 FROM model_versions WHERE version = 1")
    result = train_spec(store, parse_spec(SPEC, source="tests/monitoring spec, again"))
    assert result.best_run_id is not None
    assert store.value("SELECT model_sha256 FROM runs WHERE id = ?", (result.best_run_id,)) == first
