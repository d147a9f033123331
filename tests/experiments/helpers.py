"""Seeded data and small specs shared by the experiments tests (train in seconds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.store.clock import fixed_clock
from core.store.database import Store

from tests.conftest import T0


def credit_frame(n: int = 360, seed: int = 0) -> pd.DataFrame:
    """Credit-like applicants: income drives default, grade a little, noise the rest."""
    rng = np.random.default_rng(seed)
    income = rng.normal(55_000, 15_000, n).round(0)
    debt_ratio = rng.uniform(0.0, 0.8, n).round(3)
    grade = rng.choice(["A", "B", "C", "D"], n, p=[0.3, 0.3, 0.25, 0.15])
    age = rng.integers(21, 70, n).astype(float)
    risk = -(income - 55_000) / 8_000 + 2.5 * (debt_ratio - 0.4) + (grade == "D") * 0.8 + rng.normal(0, 0.7, n)
    frame = pd.DataFrame({
        "applicant_id": np.arange(1, n + 1),
        "income": income,
        "debt_ratio": debt_ratio,
        "grade": grade,
        "age": age,
        "default": (risk > 0.6).astype(int),
    })
    frame.loc[frame.index % 13 == 0, "age"] = np.nan  # some missing values to impute
    return frame


def add_credit(store: Store, name: str = "credit", n: int = 360, seed: int = 0):
    """Import the frame as a dataset version through the real datasets engine."""
    from core.data.datasets import add_frame

    dv, _ = add_frame(store, name, credit_frame(n, seed), source="tests", target="default", id_column="applicant_id")
    return dv


SMALL_SPEC = '''
experiment = "credit-risk"
dataset = "credit"
seed = 11

[search]
cv = 3

[[candidates]]
estimator = "LogisticRegression"
params = { C = [0.05, 1.0] }

[[candidates]]
estimator = "DecisionTreeClassifier"
params = { max_depth = [3] }
'''


def write_spec(folder: Path, text: str = SMALL_SPEC, name: str = "spec.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def sequential_training(folder: Path) -> None:
    """pitboard.toml beside the test database: fits in-process (no worker pool start-up)."""
    (folder / "pitboard.toml").write_text("[training]\nn_jobs = 1\nimportance_repeats = 2\ncluster_timeout_seconds = 2.0\n")


@pytest.fixture
def credit_db(db_path: Path, tmp_path: Path) -> Path:
    """A database holding credit@1, with sequential training configured beside it."""
    sequential_training(tmp_path)
    with Store.open(db_path, clock=fixed_clock(T0)) as store:
        add_credit(store)
    return db_path
