"""Validation: each check on data built to trip it (and not to), severities, config, records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data.datasets import DatasetVersion, add_dataset, add_frame
from core.data.validation import DEFAULTS, ValidationReport, latest_report, validate
from core.store.database import Store
from core.store.errors import PitboardError

from tests.conftest import SAMPLE_DATA, T0

N = 2_000


def reference_frame(seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(np.log(50_000), 0.4, N).round(-2)
    risk = -3 + (income < 40_000) * 1.0 + rng.normal(0, 1, N)
    return pd.DataFrame({
        "customer_id": [f"C{seed}-{i}" for i in range(N)],
        "income": income,
        "region": rng.choice(["north", "south", "east"], N),
        "age": rng.integers(18, 80, N),
        "default": (rng.random(N) < 1 / (1 + np.exp(-risk))).astype(int),
    })


def add(store: Store, frame: pd.DataFrame, **roles: str) -> DatasetVersion:
    dv, _ = add_frame(store, "customers", frame, source="test", target=roles.get("target", "default"),
                      id_column=roles.get("id_column"))
    return dv


def failed(report: ValidationReport) -> dict[tuple[str, str | None], str]:
    return {(c.name, c.column): c.severity for c in report.checks if not c.passed}


def test_a_version_against_itself_passes_every_check(store: Store) -> None:
    dv = add(store, reference_frame())
    report = validate(store, dv, dv)
    assert report.ok and failed(report) == {}
    names = {c.name for c in report.checks}
    assert {"missing_rate", "constant_column", "duplicate_rows", "target_missing", "target_leakage", "class_imbalance",
            "required_columns", "dtype_change", "new_categories", "missing_rate_jump", "out_of_range",
            "distribution_shift"} <= names


def test_schema_checks_against_a_reference(store: Store) -> None:
    ref = add(store, reference_frame())
    current = reference_frame(2).drop(columns=["age"]).assign(region=lambda f: f["income"].astype(int), extra=1.0)
    report = validate(store, add(store, current), ref)
    problems = failed(report)
    assert problems[("required_columns", "age")] == "error"
    assert problems[("unexpected_column", "extra")] == "info"
    assert problems[("dtype_change", "region")] == "error"
    change = next(c for c in report.checks if c.name == "dtype_change" and c.column == "region")
    assert (change.value, change.threshold, change.message) == ("int64", "str", "str -> int64")
    assert not report.ok


def test_int_to_float_is_only_info(store: Store) -> None:
    ref = add(store, reference_frame())
    current = reference_frame(2).assign(age=lambda f: f["age"].where(f.index % 100 != 0))  # missing ages: float64
    report = validate(store, add(store, current), ref)
    assert failed(report) == {("dtype_change", "age"): "info"}
    assert report.ok


def test_categories_missing_rates_ranges_and_shift(store: Store) -> None:
    ref = add(store, reference_frame())
    current = reference_frame(2)
    current.loc[:99, "region"] = "west"  # 5% new category
    current.loc[current["region"] == "east", "region"] = "south"  # east vanishes
    current.loc[100:499, "income"] = np.nan  # 20% missing
    current["income"] *= 0.6  # shifted down, many below the reference minimum
    report = validate(store, add(store, current), ref)
    checks = {(c.name, c.column): c for c in report.checks}
    assert not checks["new_categories", "region"].passed
    assert checks["new_categories", "region"].value == pytest.approx(100 / N)
    assert "'west'" in checks["new_categories", "region"].message
    assert not checks["vanished_categories", "region"].passed and checks["vanished_categories", "region"].value == 1
    assert not checks["missing_rate_jump", "income"].passed
    assert checks["missing_rate_jump", "income"].value == pytest.approx(0.2)
    assert not checks["out_of_range", "income"].passed
    assert checks["distribution_shift", "income"].severity == "error"
    assert checks["distribution_shift", "income"].value > 0.25
    assert checks["distribution_shift", "age"].passed
    assert checks["out_of_range", "age"].passed


def test_table_checks_constant_duplicates_missing_ids_and_target(store: Store) -> None:
    frame = reference_frame()
    frame["constant"] = 7
    frame.loc[10:19, ["income", "region", "age", "default"]] = frame.loc[0:9, ["income", "region", "age", "default"]].to_numpy()
    frame.loc[20:29, "customer_id"] = frame.loc[0:9, "customer_id"].to_numpy()
    frame["mostly_missing"] = np.where(np.arange(N) % 2 == 0, np.nan, 1.5)
    frame["default"] = frame["default"].astype(float)
    frame.loc[30, "default"] = np.nan
    report = validate(store, add(store, frame, id_column="customer_id"))
    problems = failed(report)
    assert problems[("constant_column", "constant")] == "warning"
    assert problems[("duplicate_rows", None)] == "warning"
    assert problems[("missing_rate", "mostly_missing")] == "warning"
    assert problems[("id_unique", "customer_id")] == "error"
    assert problems[("target_missing", "default")] == "error"
    duplicates = next(c for c in report.checks if c.name == "duplicate_rows")
    # The id column is ignored, so rows that differ only in their id still count as repeats.
    assert duplicates.value == pytest.approx(frame.drop(columns="customer_id").duplicated().mean())
    assert duplicates.value >= 10 / N > frame.duplicated().mean()


def test_leakage_and_class_imbalance(store: Store) -> None:
    frame = reference_frame()
    frame["copy_of_target"] = frame["default"] * 3.0
    frame["outcome_code"] = np.where(frame["default"] == 1, "charged_off", "paid")
    rare = frame.assign(default=(np.arange(N) < 40).astype(int))  # 2% positives
    report = validate(store, add(store, frame))
    problems = failed(report)
    assert problems[("target_leakage", "copy_of_target")] == "error"
    assert problems[("target_leakage", "outcome_code")] == "error"
    assert ("target_leakage", "income") not in problems
    income = next(c for c in report.checks if c.name == "target_leakage" and c.column == "income")
    assert 0.55 < income.value < 0.9 and income.message.startswith("single-feature AUC")
    imbalance = failed(validate(store, add(store, rare.drop(columns=["copy_of_target", "outcome_code"]))))
    assert imbalance == {("class_imbalance", "default"): "warning"}


def test_sample_data_story_months_one_to_three_stable_month_twelve_shifted(store: Store) -> None:
    train, _ = add_dataset(store, "credit", SAMPLE_DATA / "credit_train.csv", target="default")
    month_3, _ = add_dataset(store, "credit", SAMPLE_DATA / "production" / "month_03.csv")
    month_12, _ = add_dataset(store, "credit", SAMPLE_DATA / "production" / "month_12.csv")
    calm = validate(store, month_3, train)
    assert calm.ok and not [c for c in calm.checks if c.name == "distribution_shift" and not c.passed]
    recession = validate(store, month_12, train)
    shifted = {c.column for c in recession.errors if c.name == "distribution_shift"}
    assert {"income", "debt_to_income"} <= shifted
    assert not recession.ok


def test_thresholds_and_severities_from_config(store: Store) -> None:
    frame = reference_frame()
    frame["constant"] = 1
    dv = add(store, frame)
    assert failed(validate(store, dv, record=False)) == {("constant_column", "constant"): "warning"}
    store.config_path.write_text("[validation.severity]\nconstant_column = 'error'\n")
    store._config = None  # the store caches pitboard.toml; a new process would read it afresh
    assert not validate(store, dv, record=False).ok
    store.config_path.write_text("[validation]\nmax_missing_rate = 'high'\n")
    store._config = None
    with pytest.raises(PitboardError, match=r"pitboard\.toml: \[validation\] max_missing_rate = 'high' should be float"):
        validate(store, dv)
    assert set(DEFAULTS["severity"]) >= {"distribution_shift", "target_leakage", "required_columns"}


def test_reports_are_recorded_with_an_audit_row(store: Store) -> None:
    dv = add(store, reference_frame())
    assert latest_report(store, dv) is None
    validate(store, dv, record=False)
    assert store.value("SELECT count(*) FROM validation_reports") == 0
    report = validate(store, dv, dv)
    assert (report.id, report.created_at) == (1, T0)
    loaded = latest_report(store, dv)
    assert loaded is not None
    assert (loaded.dataset, loaded.against, loaded.ok, loaded.checks) == ("customers@1", "customers@1", True, report.checks)
    row = store.row("SELECT ok, n_errors, n_warnings FROM validation_reports")
    assert tuple(row) == (1, 0, 0)
    audit = store.row("SELECT action, object, details FROM audit WHERE action = 'data.validate'")
    assert (audit["object"], '"ok": true' in audit["details"]) == ("customers@1", True)
