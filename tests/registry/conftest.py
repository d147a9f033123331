"""A database with real runs, trained once per session and copied for every test.

Training goes through the real engine (`core.data.datasets.add_frame`, `core.data.validation`,
`core.experiments.training.train_spec`) on the first 400 rows of `sample_data/credit_train.csv`: one
good LogisticRegression and one deliberately weak DecisionTree of depth 1, so promotion
gates have a real winner and a real loser.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.store.clock import fixed_clock
from core.store.database import Store
from tests.conftest import SAMPLE_DATA, T0

SPEC = """
experiment = "credit-risk"
dataset = "credit"
target = "default"
primary_metric = "roc_auc"
seed = 11

[split]
test_size = 0.25

[search]
cv = 2

[[candidates]]
estimator = "LogisticRegression"
params = { C = [1.0], max_iter = [500] }

[[candidates]]
estimator = "DecisionTreeClassifier"
params = { max_depth = [1] }
"""


@dataclass(frozen=True)
class Trained:
    """The copied database and the ids of its runs."""

    db: Path
    good_run: int
    weak_run: int

    def open(self) -> Store:
        return Store.open(self.db, clock=fixed_clock(T0))


@pytest.fixture(scope="session")
def trained_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, int]:
    from core.data.datasets import add_frame, read_tabular
    from core.data.validation import validate
    from core.experiments.runs import get_run
    from core.experiments.specs import parse_spec
    from core.experiments.training import train_spec

    db = tmp_path_factory.mktemp("registry") / "template.db"
    store = Store.open(db, clock=fixed_clock(T0))
    frame = read_tabular(SAMPLE_DATA / "credit_train.csv").head(400)
    dv, _ = add_frame(store, "credit", frame, source="credit_train.csv (first 400 rows)", target="default")
    validate(store, dv)
    result = train_spec(store, parse_spec(SPEC, source="tests/registry spec"))
    runs = {get_run(store, run_id).estimator: run_id for run_id in result.run_ids}
    store.close()
    return db, runs["LogisticRegression"], runs["DecisionTreeClassifier"]


@pytest.fixture
def trained(trained_template: tuple[Path, int, int], db_path: Path) -> Trained:
    template, good, weak = trained_template
    shutil.copyfile(template, db_path)
    return Trained(db_path, good, weak)


@pytest.fixture
def reg(trained: Trained):
    """An open store on the copied database."""
    store = trained.open()
    yield store
    store.close()


def _pipeline_version(store: Store, name: str, seed: int, C: float):
    """A real fitted scikit-learn pipeline registered the way bundle import registers one."""
    import numpy as np
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from core.experiments.modelio import dump_model
    from core.experiments.pipeline_builder import signature
    from core.registry.versions import add_version
    from core.store.artifacts import put_blob

    rng = np.random.default_rng(seed)
    n = 300
    X = pd.DataFrame({
        "income": rng.normal(50.0, 12.0, n),
        "debt_ratio": rng.uniform(0.0, 0.8, n),
        "purpose": rng.choice(["car", "home", "education"], n),
    })
    X.loc[::25, "income"] = np.nan  # income may be missing; the others may not
    y = (X["debt_ratio"] * 3 - X["income"].fillna(50) / 50 + rng.normal(0, 0.3, n) > 0).astype(int)
    pipe = Pipeline([
        ("preprocess", ColumnTransformer([
            ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), ["income", "debt_ratio"]),
            ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["purpose"]),
        ])),
        ("classifier", LogisticRegression(C=C)),
    ]).fit(X, y)
    info = {"task": "classification", "estimator": "LogisticRegression", "primary_metric": "roc_auc",
            "metrics": {"roc_auc": 0.8}, "signature": signature(X, ["income", "debt_ratio"], ["purpose"]),
            "classes": [0, 1]}
    sha = put_blob(store, dump_model(pipe))
    return add_version(store, name, run_id=None, sha256=sha, source=f"test pipeline C={C}", info=info), pipe


@pytest.fixture
def served(db_path: Path):
    """A database with `scoring` v1 and v2 (real pipelines), `champion` on v1."""
    from core.registry.versions import move_alias

    store = Store.open(db_path, clock=fixed_clock(T0))
    v1, pipe1 = _pipeline_version(store, "scoring", seed=1, C=1.0)
    v2, pipe2 = _pipeline_version(store, "scoring", seed=2, C=0.01)
    move_alias(store, "scoring", "champion", v1, action="set")
    store.close()
    return {"db": db_path, "v1": v1, "v2": v2, "pipe1": pipe1, "pipe2": pipe2}
