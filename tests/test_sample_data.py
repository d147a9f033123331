"""The shipped credit-risk sample data: reproducible, realistic, and telling the recession story."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import SAMPLE_DATA

FILES = ["credit_train.csv"] + [f"production/month_{m:02d}.csv" for m in range(1, 13)]
COLUMNS = ["applicant_id", "application_date", "employment_type", "home_ownership", "region", "purpose", "income",
           "debt_to_income", "credit_history_years", "utilization", "delinquencies", "loan_amount", "term_months",
           "default"]


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    return pd.read_csv(SAMPLE_DATA / "credit_train.csv")


@pytest.fixture(scope="module")
def months() -> list[pd.DataFrame]:
    return [pd.read_csv(SAMPLE_DATA / f) for f in FILES[1:]]


def test_the_generator_reproduces_the_files_byte_for_byte(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(SAMPLE_DATA / "generate.py"), "--out", str(tmp_path)], check=True,
                   capture_output=True)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (SAMPLE_DATA / name).read_bytes(), name
    total = sum((SAMPLE_DATA / name).stat().st_size for name in FILES) + (SAMPLE_DATA / "generate.py").stat().st_size
    assert total < 4 * 2**20


def test_shapes_dates_ids_and_missing_values(train: pd.DataFrame, months: list[pd.DataFrame]) -> None:
    assert list(train.columns) == COLUMNS and len(train) == 10_000
    assert (train["application_date"].min(), train["application_date"].max()) >= ("2025-01-01", "2025-12-01")
    assert train["application_date"].max() < "2026-01-01"
    for number, month in enumerate(months, start=1):
        assert list(month.columns) == COLUMNS
        assert 1_400 <= len(month) <= 1_600
        assert month["application_date"].str.startswith(f"2026-{number:02d}-").all()
    ids = pd.concat([train] + months)["applicant_id"]
    assert ids.is_unique
    rates = train.isna().mean()
    for column in ("income", "credit_history_years", "employment_type", "utilization"):
        assert 0.005 < rates[column] < 0.05, column
    assert rates[["applicant_id", "debt_to_income", "loan_amount", "default"]].sum() == 0
    assert set(train["default"].unique()) == {0, 1}


def test_realistic_correlations(train: pd.DataFrame) -> None:
    complete = train.dropna()
    assert complete["income"].corr(complete["loan_amount"], method="spearman") > 0.4
    assert complete["income"].corr(complete["debt_to_income"], method="spearman") < -0.2
    by_utilization = complete.groupby(pd.qcut(complete["utilization"], 4), observed=True)["default"].mean()
    assert by_utilization.is_monotonic_increasing and by_utilization.iloc[-1] > 2 * by_utilization.iloc[0]
    by_employment = complete.groupby("employment_type")["income"].median()
    assert by_employment["salaried"] > by_employment["part_time"] > by_employment["unemployed"]
    assert 0.08 < train["default"].mean() < 0.18


def test_months_one_to_three_match_then_the_recession_deepens(train: pd.DataFrame, months: list[pd.DataFrame]) -> None:
    base_income, base_dti, base_rate = train["income"].median(), train["debt_to_income"].median(), train["default"].mean()
    for month in months[:3]:
        assert month["income"].median() == pytest.approx(base_income, rel=0.05)
        assert month["debt_to_income"].median() == pytest.approx(base_dti, rel=0.05)
        assert abs(month["default"].mean() - base_rate) < 0.03
    last = months[11]
    assert last["income"].median() < 0.75 * base_income
    assert last["debt_to_income"].median() > 1.3 * base_dti
    assert last["default"].mean() > base_rate + 0.12
    incomes = [m["income"].median() for m in months[3:]]
    assert incomes[-1] < incomes[0] and np.polyfit(range(len(incomes)), incomes, 1)[0] < 0


@pytest.mark.slow
def test_concept_drift_a_retrained_model_beats_the_original_on_the_latest_month(
    train: pd.DataFrame, months: list[pd.DataFrame]
) -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = ["income", "debt_to_income", "credit_history_years", "utilization", "delinquencies", "loan_amount",
               "term_months"]
    categorical = ["employment_type", "home_ownership", "region", "purpose"]

    def fit(data: pd.DataFrame):
        prepare = ColumnTransformer([
            ("numbers", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            ("categories", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                         OneHotEncoder(handle_unknown="ignore")), categorical),
        ])
        return make_pipeline(prepare, LogisticRegression(max_iter=2_000)).fit(data[numeric + categorical],
                                                                              data["default"])

    latest = months[11]
    original = fit(train)
    retrained = fit(pd.concat([train] + months[8:11]))

    def auc(model) -> float:
        return roc_auc_score(latest["default"], model.predict_proba(latest[numeric + categorical])[:, 1])

    assert auc(retrained) > auc(original) + 0.015
    assert roc_auc_score(months[0]["default"], original.predict_proba(months[0][numeric + categorical])[:, 1]) > 0.75
