"""Data validation: checks with severities, run on a dataset version, optionally against
a reference version (usually the data a model was trained on).

This is CI for data: `pitboard data validate credit@5 --against credit@1` exits 1 when
an error-level check fails, so a pipeline stops before training or scoring on bad data.
Every run is recorded in `validation_reports`; promotion gates read the latest one.

Checks (the default severity in brackets; a failed check reports its severity):

- on the version alone: `missing_rate` [warning] a column has more missing values than
  `max_missing_rate`; `constant_column` [warning] at most one distinct value;
  `duplicate_rows` [warning] share of rows repeating an earlier row (the id column
  ignored) above `max_duplicate_share`; `id_unique` [error] the id column has missing or
  repeated values; `target_missing` [error] the target has missing values;
  `target_leakage` [error] a feature that alone predicts the target with a score of at
  least `leakage_score` (single-feature AUC for numbers and a binary target, the share of
  the best guess's errors removed for categories, |correlation| for a numeric target);
  `class_imbalance` [warning] the rarest class of a classification target is below
  `min_class_share`.
- against a reference: `required_columns` [error] a reference column is missing;
  `unexpected_column` [info] a column the reference does not have; `dtype_change`
  [error] a column changed kind (number, boolean, text, datetime; int64 <-> float64 is
  only reported as info); `new_categories` [warning] values of a categorical column the
  reference never had; `vanished_categories` [info] reference categories that no longer
  occur; `missing_rate_jump` [warning] the missing rate rose by more than
  `missing_rate_jump`; `out_of_range` [warning] share of values outside the reference
  [min, max] above `out_of_range_share`; `distribution_shift` [error] the population
  stability index (PSI from `core.kernels.drift`, on `psi_bins` reference-quantile bins
  for numbers, on categories otherwise) is at least `psi_error`, reported as a warning
  from `psi_warning`. Time and id columns are not compared (time moves on; ids are new).

Thresholds and severities come from the `[validation]` section of pitboard.toml
(`[validation.severity]` sets a check's severity: error, warning or info).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from core.data.datasets import DatasetVersion, columns, load_frame, version_by_id
from core.store.config import SHARE, Range, at_least
from core.store.database import Store
from core.store.errors import PitboardError

if TYPE_CHECKING:
    import pandas as pd

SEVERITIES = ("error", "warning", "info")

DEFAULTS: dict[str, Any] = {
    "max_missing_rate": 0.2,
    "missing_rate_jump": 0.05,
    "out_of_range_share": 0.01,
    "psi_warning": 0.1,
    "psi_error": 0.25,
    "psi_bins": 10,
    "max_duplicate_share": 0.0,
    "min_class_share": 0.05,
    "leakage_score": 0.99,
    "severity": {
        "missing_rate": "warning",
        "constant_column": "warning",
        "duplicate_rows": "warning",
        "id_unique": "error",
        "target_missing": "error",
        "target_leakage": "error",
        "class_imbalance": "warning",
        "required_columns": "error",
        "unexpected_column": "info",
        "dtype_change": "error",
        "new_categories": "warning",
        "vanished_categories": "info",
        "missing_rate_jump": "warning",
        "out_of_range": "warning",
        "distribution_shift": "error",
    },
}

RANGES: dict[str, Range] = {
    "max_missing_rate": SHARE, "missing_rate_jump": SHARE, "out_of_range_share": SHARE,
    "max_duplicate_share": SHARE, "min_class_share": SHARE, "leakage_score": SHARE,
    "psi_warning": at_least(0), "psi_error": at_least(0),
    "psi_bins": at_least(2, 1000),
}

_CATEGORY_KINDS = ("categorical", "boolean")


@dataclass(frozen=True)
class Check:
    """The outcome of one check on one column (column None: the whole table)."""

    name: str
    column: str | None
    severity: str
    passed: bool
    value: Any
    threshold: Any
    message: str


@dataclass
class ValidationReport:
    """Every check of one validation run; `ok` when no error-level check failed."""

    dataset: str
    against: str | None
    checks: list[Check] = field(default_factory=list)
    id: int | None = None
    created_at: float | None = None

    @property
    def failed(self) -> list[Check]:
        """The checks that did not pass, errors first."""
        return sorted((c for c in self.checks if not c.passed), key=lambda c: SEVERITIES.index(c.severity))

    @property
    def errors(self) -> list[Check]:
        return [c for c in self.checks if not c.passed and c.severity == "error"]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if not c.passed and c.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        """For JSON output and the validation_reports table."""
        return {
            "id": self.id, "dataset": self.dataset, "against": self.against, "ok": self.ok,
            "errors": len(self.errors), "warnings": len(self.warnings), "created_at": self.created_at,
            "checks": [asdict(c) for c in self.checks],
        }


def settings(store: Store) -> dict[str, Any]:
    """The `[validation]` settings, with every severity checked."""
    config = store.settings("validation", DEFAULTS, RANGES)
    for check, severity in config["severity"].items():
        if severity not in SEVERITIES:
            raise PitboardError(
                f"{store.config_path}: [validation.severity] {check} = {severity!r} should be one of {', '.join(SEVERITIES)}"
            )
    return config


def validate(
    store: Store, current: DatasetVersion, against: DatasetVersion | None = None, *, record: bool = True
) -> ValidationReport:
    """Run every check on `current` (and against `against`); record the report if asked."""
    config = settings(store)
    run = _Run(config, current, load_frame(store, current), columns(store, current))
    run.table_checks()
    if against is not None:
        run.compare(against, load_frame(store, against), columns(store, against))
    report = ValidationReport(current.ref, against.ref if against else None, run.checks)
    if record:
        _record(store, report, current, against)
    return report


def latest_report(store: Store, dv: DatasetVersion) -> ValidationReport | None:
    """The most recent recorded validation of this version (whatever it was compared with)."""
    row = store.row(
        "SELECT id, against_id, checks, created_at FROM validation_reports WHERE version_id = ? ORDER BY id DESC LIMIT 1",
        (dv.id,),
    )
    if row is None:
        return None
    against = version_by_id(store, row["against_id"]).ref if row["against_id"] is not None else None
    checks = [Check(**c) for c in json.loads(row["checks"])]
    return ValidationReport(dv.ref, against, checks, row["id"], row["created_at"])


def _record(store: Store, report: ValidationReport, current: DatasetVersion, against: DatasetVersion | None) -> None:
    with store.transaction() as conn:
        report.created_at = store.clock()
        checks = json.dumps([asdict(c) for c in report.checks], default=_json_default)
        report.id = conn.execute(
            "INSERT INTO validation_reports (version_id, against_id, ok, n_errors, n_warnings, checks, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (current.id, against.id if against else None, int(report.ok), len(report.errors), len(report.warnings),
             checks, report.created_at),
        ).lastrowid
        store.audit(
            "data.validate", current.ref,
            {"against": report.against, "ok": report.ok, "errors": len(report.errors), "warnings": len(report.warnings)},
        )


def _json_default(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else str(value)


class _Run:
    """Collects the checks of one validation run."""

    def __init__(self, config: dict[str, Any], dv: DatasetVersion, frame: "pd.DataFrame", schema: list[dict[str, Any]]):
        self.config = config
        self.dv = dv
        self.frame = frame
        self.schema = {c["name"]: c for c in schema}
        self.checks: list[Check] = []

    def add(self, name: str, column: str | None, failed: bool, value: Any, threshold: Any, message: str,
            severity: str | None = None) -> None:
        self.checks.append(Check(name, column, severity or self.config["severity"][name], not failed, value, threshold, message))

    def features(self) -> list[str]:
        skip = {self.dv.target, self.dv.id_column, self.dv.time_column}
        return [name for name in self.schema if name not in skip]

    # -- the version alone ---------------------------------------------------------------

    def table_checks(self) -> None:
        limit = self.config["max_missing_rate"]
        for name, info in self.schema.items():
            profile = info["profile"]
            rate = profile["missing_rate"]
            self.add("missing_rate", name, rate > limit, rate, limit, f"{rate:.1%} missing (limit {limit:.1%})")
            unique = profile["unique"]
            self.add("constant_column", name, unique <= 1, unique, 2,
                     f"{unique} distinct value{'s' if unique != 1 else ''}")
        self.duplicates()
        if self.dv.id_column:
            self.id_unique(self.dv.id_column)
        if self.dv.target:
            self.target_checks(self.dv.target)

    def duplicates(self) -> None:
        data = self.frame.drop(columns=[self.dv.id_column] if self.dv.id_column else [])
        repeated = int(data.duplicated().sum())
        share = repeated / len(data) if len(data) else 0.0
        limit = self.config["max_duplicate_share"]
        self.add("duplicate_rows", None, share > limit, share, limit,
                 f"{repeated} row{'s' if repeated != 1 else ''} repeat an earlier row ({share:.2%})")

    def id_unique(self, name: str) -> None:
        values = self.frame[name]
        missing, repeated = int(values.isna().sum()), int(values.dropna().duplicated().sum())
        self.add("id_unique", name, bool(missing or repeated), missing + repeated, 0,
                 f"{missing} missing and {repeated} repeated ids")

    def target_checks(self, target: str) -> None:
        values = self.frame[target]
        missing = int(values.isna().sum())
        self.add("target_missing", target, missing > 0, missing, 0, f"{missing} rows without a target value")
        present = values.notna().to_numpy()
        y = values[present]
        classification = self.schema[target]["profile"]["kind"] in _CATEGORY_KINDS
        if classification and len(y):
            shares = y.value_counts(normalize=True)
            rarest, share = shares.index[-1], float(shares.iloc[-1])
            limit = self.config["min_class_share"]
            self.add("class_imbalance", target, len(shares) < 2 or share < limit, share, limit,
                     f"rarest class {_label(rarest)} is {share:.1%} of rows" if len(shares) > 1 else "only one class")
        limit = self.config["leakage_score"]
        for name in self.features():
            score, how = _leakage_score(self.frame[name][present], y, self.schema[name]["profile"]["kind"], classification)
            if score is None:
                continue
            self.add("target_leakage", name, score >= limit, score, limit, f"{how} {score:.3f} for {target}")

    # -- against a reference -------------------------------------------------------------

    def compare(self, reference: DatasetVersion, ref_frame: "pd.DataFrame", ref_schema: list[dict[str, Any]]) -> None:
        ref_columns = {c["name"]: c for c in ref_schema}
        for name in ref_columns:
            if name not in self.schema:
                self.add("required_columns", name, True, None, None, f"column of {reference.ref} is missing")
        for name in self.schema:
            if name not in ref_columns:
                self.add("unexpected_column", name, True, None, None, f"not a column of {reference.ref}")
        skip = {reference.id_column, reference.time_column, self.dv.id_column, self.dv.time_column}
        for name, ref_info in ref_columns.items():
            if name not in self.schema:
                continue
            info = self.schema[name]
            self.add("required_columns", name, False, None, None, "present")
            if not self.dtype_check(name, ref_info["dtype"], info["dtype"]):
                continue
            rate, ref_rate = info["profile"]["missing_rate"], ref_info["profile"]["missing_rate"]
            jump = self.config["missing_rate_jump"]
            self.add("missing_rate_jump", name, rate - ref_rate > jump, rate - ref_rate, jump,
                     f"missing rate {ref_rate:.1%} -> {rate:.1%}")
            if name in skip:
                continue
            kind = ref_info["profile"]["kind"]
            if kind in _CATEGORY_KINDS:
                self.category_checks(name, ref_frame[name])
            elif kind == "numeric" and info["dtype"] in ("int64", "float64"):
                self.numeric_checks(name, ref_frame[name], ref_info["profile"])

    def dtype_check(self, name: str, ref_dtype: str, dtype: str) -> bool:
        """Report a change of dtype; False when the kinds differ so nothing else compares."""
        same_kind = _dtype_kind(ref_dtype) == _dtype_kind(dtype)
        if ref_dtype == dtype:
            self.add("dtype_change", name, False, dtype, ref_dtype, f"{dtype} as in the reference")
        elif same_kind:
            self.add("dtype_change", name, True, dtype, ref_dtype, f"{ref_dtype} -> {dtype}", severity="info")
        else:
            self.add("dtype_change", name, True, dtype, ref_dtype, f"{ref_dtype} -> {dtype}")
        return same_kind

    def category_checks(self, name: str, reference: "pd.Series") -> None:
        current = self.frame[name].dropna()
        ref_counts = reference.dropna().value_counts()
        counts = current.value_counts()
        new = [value for value in counts.index if value not in ref_counts.index]
        share = float(counts[new].sum() / len(current)) if len(current) else 0.0
        self.add("new_categories", name, bool(new), share, 0,
                 f"{len(new)} new: {_listing(new)} ({share:.1%} of rows)" if new else "no new categories")
        gone = [value for value in ref_counts.index if value not in counts.index]
        self.add("vanished_categories", name, bool(gone), len(gone), 0,
                 f"{len(gone)} gone: {_listing(gone)}" if gone else "every category still occurs")
        from core.data.drift import encode_categories
        from core.kernels.drift import ReferenceProfile

        labels = [str(value) for value in ref_counts.index]
        profile = ReferenceProfile.categorical(encode_categories(reference, labels), labels)
        self.shift_check(name, profile.psi(encode_categories(self.frame[name], labels)), "categories")

    def numeric_checks(self, name: str, reference: "pd.Series", ref_profile: dict[str, Any]) -> None:
        import numpy as np

        current = self.frame[name].dropna().to_numpy(dtype=np.float64)
        ref_values = reference.dropna().to_numpy(dtype=np.float64)
        if not len(current) or not len(ref_values):
            return
        low, high = ref_profile["min"], ref_profile["max"]
        outside = int(((current < low) | (current > high)).sum())
        share = outside / len(current)
        limit = self.config["out_of_range_share"]
        self.add("out_of_range", name, share > limit, share, limit,
                 f"{share:.1%} of values outside the reference range [{low:.6g}, {high:.6g}]")
        from core.kernels.drift import psi

        moved = f"median {np.median(ref_values):.6g} -> {np.median(current):.6g}"
        self.shift_check(name, psi(ref_values, current, bins=self.config["psi_bins"]), moved)

    def shift_check(self, name: str, value: float, detail: str) -> None:
        """PSI (core.kernels.drift) at or above psi_error fails at the check's severity,
        at or above psi_warning as a warning."""
        if value != value:  # NaN: one side has no values, which missing_rate reports
            return
        warn, error = self.config["psi_warning"], self.config["psi_error"]
        severity = self.config["severity"]["distribution_shift"]
        if value >= error:
            self.add("distribution_shift", name, True, value, error, f"PSI {value:.3f} >= {error}: shifted ({detail})")
        elif value >= warn:
            self.add("distribution_shift", name, True, value, warn, f"PSI {value:.3f} >= {warn}: moderate shift ({detail})",
                     severity="warning" if severity == "error" else severity)
        else:
            self.add("distribution_shift", name, False, value, warn, f"PSI {value:.3f} < {warn}: stable")


def _leakage_score(feature: "pd.Series", y: "pd.Series", kind: str, classification: bool) -> tuple[float | None, str]:
    """How well one feature alone predicts the target (1.0: perfectly), and how it was measured."""
    import numpy as np
    import pandas as pd

    present = feature.notna().to_numpy()
    x, target = feature[present], y[present]
    if len(x) < 2 or target.nunique() < 2:
        return None, ""
    if kind in _CATEGORY_KINDS:
        if not classification:
            return None, ""
        table = pd.crosstab(x.to_numpy(), target.to_numpy())
        base_errors = len(x) - table.sum(axis=0).max()
        errors = len(x) - table.max(axis=1).sum()
        return (1.0 - errors / base_errors if base_errors else 0.0), "errors removed"
    if kind not in ("numeric", "boolean") or not pd.api.types.is_numeric_dtype(x.dtype):
        return None, ""
    values = x.to_numpy(dtype=np.float64)
    if classification and target.nunique() == 2:
        positive = (target == target.max()).to_numpy()
        ranks = pd.Series(values).rank().to_numpy()
        n_pos, n_neg = int(positive.sum()), int((~positive).sum())
        auc = (ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
        return float(max(auc, 1.0 - auc)), "single-feature AUC"
    if not classification and pd.api.types.is_numeric_dtype(target.dtype):
        if np.std(values) == 0 or np.std(target.to_numpy(dtype=np.float64)) == 0:
            return None, ""
        return float(abs(np.corrcoef(values, target.to_numpy(dtype=np.float64))[0, 1])), "|correlation|"
    return None, ""


def _dtype_kind(dtype: str) -> str:
    if dtype in ("int64", "float64"):
        return "number"
    if dtype in ("bool", "boolean"):
        return "boolean"
    return "datetime" if dtype.startswith("datetime") else "text"


def _label(value: Any) -> str:
    return repr(value.item() if hasattr(value, "item") else value)


def _listing(values: list[Any], limit: int = 5) -> str:
    shown = ", ".join(_label(v) for v in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")
