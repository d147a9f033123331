"""Generate the credit-risk demo data: a bank scoring loan applicants, then a recession.

    python sample_data/generate.py [--out DIR]

writes `credit_train.csv` (10,000 applications dated over 2025) and
`production/month_01.csv` ... `month_12.csv` (about 1,500 labelled applications per month
of 2026). Everything comes from one seeded numpy generator and is written with fixed
formatting, so running the script again reproduces the files byte for byte.

The story the files tell:

- Applicants have realistic, correlated attributes: income depends on employment type,
  loan amounts scale with income and purpose, lower incomes carry more debt and higher
  card utilisation, utilisation and a short credit history bring delinquencies, and a
  logistic model of all of these decides who defaults (about 10% in normal times).
- Months 1-3 come from exactly the same process as the training data.
- In month 4 a recession hits at a third of its final depth (severity 0.3, so income and
  debt-to-income drift visibly in the first recession month) and deepens month by month
  to full severity in month 12: incomes fall, debt-to-income and utilisation rise, more applicants are on
  contracts, part time or unemployed, and the default rate climbs to about 25%.
- The recession also changes *why* people default (concept drift): debt-to-income and
  utilisation weigh far more, insecure employment (contract, part time, self employed)
  becomes a risk of its own, and income matters less. A model trained on 2025 ranks
  recession applicants noticeably worse than one retrained with recent labelled months.
- A few percent of values are missing: income, credit history, employment type,
  utilisation and home ownership.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20_260_101
TRAIN_ROWS = 10_000
MONTH_ROWS = (1_400, 1_600)  # each production month has a size in this range
RECESSION_STARTS = 4  # months 1-3 match the training data
RECESSION_ONSET = 0.3  # the depth of the first recession month: the shock is sudden

EMPLOYMENT = ("salaried", "self_employed", "contract", "part_time", "retired", "unemployed")
EMPLOYMENT_NORMAL = (0.56, 0.14, 0.10, 0.10, 0.06, 0.04)
EMPLOYMENT_RECESSION = (0.42, 0.14, 0.15, 0.15, 0.06, 0.08)
INCOME_MEDIAN = {"salaried": 58_000, "self_employed": 62_000, "contract": 48_000, "part_time": 28_000,
                 "retired": 32_000, "unemployed": 14_000}
INCOME_SPREAD = {"salaried": 0.40, "self_employed": 0.60, "contract": 0.45, "part_time": 0.40,
                 "retired": 0.35, "unemployed": 0.50}
HOME = ("rent", "mortgage", "own", "other")
REGION = ("north", "south", "east", "west", "central")
REGION_SHARE = (0.22, 0.24, 0.18, 0.20, 0.16)
REGION_INCOME_HIT = {"north": 0.9, "south": 1.0, "east": 1.4, "west": 0.8, "central": 1.0}
PURPOSE = ("debt_consolidation", "credit_card", "home_improvement", "car", "medical", "small_business",
           "education", "other")
PURPOSE_NORMAL = (0.38, 0.20, 0.12, 0.10, 0.07, 0.06, 0.04, 0.03)
PURPOSE_RECESSION = (0.46, 0.18, 0.07, 0.06, 0.12, 0.04, 0.04, 0.03)
PURPOSE_LOAN_FACTOR = {"debt_consolidation": 1.0, "credit_card": 0.6, "home_improvement": 1.2, "car": 0.9,
                       "medical": 0.5, "small_business": 1.5, "education": 0.8, "other": 0.7}
PURPOSE_RISK = {"debt_consolidation": 0.1, "credit_card": 0.0, "home_improvement": -0.2, "car": -0.1,
                "medical": 0.3, "small_business": 0.5, "education": 0.1, "other": 0.0}
EMPLOYMENT_RISK = {"salaried": 0.0, "self_employed": 0.1, "contract": 0.1, "part_time": 0.1,
                   "retired": -0.1, "unemployed": 0.6}
# The recession's new employment effect (concept drift), added at full severity.
EMPLOYMENT_RISK_RECESSION = {"salaried": 0.0, "self_employed": 1.0, "contract": 1.6, "part_time": 1.3,
                             "retired": 0.0, "unemployed": 0.6}
HOME_RISK = {"rent": 0.1, "mortgage": -0.2, "own": -0.3, "other": 0.2}
HOME_RISK_RECESSION = {"rent": 0.1, "mortgage": 0.9, "own": -0.3, "other": 0.2}
LOGIT_INTERCEPT = -2.6
LOGIT_RECESSION_SHIFT = -1.3
DRIFT = 1.5  # how much more debt-to-income and utilisation weigh at the depth of the recession
UNOBSERVED_RISK = 0.8  # what the bank cannot see (the spread of a latent risk in the logit)
MISSING = {"income": 0.02, "credit_history_years": 0.03, "employment_type": 0.015, "utilization": 0.01,
           "home_ownership": 0.005}
COLUMNS = ("applicant_id", "application_date", "employment_type", "home_ownership", "region", "purpose",
           "income", "debt_to_income", "credit_history_years", "utilization", "delinquencies", "loan_amount",
           "term_months", "default")


def severity(month: int) -> float:
    """How deep the recession is in production month 1..12 (0 before it starts, 1 at the end)."""
    if month < RECESSION_STARTS:
        return 0.0
    return RECESSION_ONSET + (1 - RECESSION_ONSET) * (month - RECESSION_STARTS) / (12 - RECESSION_STARTS)


def applicants(rng: np.random.Generator, dates: np.ndarray, first_id: int, depth: float) -> pd.DataFrame:
    """Applications on `dates` (numpy datetime64[D]) at recession depth 0..1, with labels."""
    n = len(dates)
    employment = rng.choice(EMPLOYMENT, size=n, p=_mix(EMPLOYMENT_NORMAL, EMPLOYMENT_RECESSION, depth))
    region = rng.choice(REGION, size=n, p=REGION_SHARE)
    purpose = rng.choice(PURPOSE, size=n, p=_mix(PURPOSE_NORMAL, PURPOSE_RECESSION, depth))

    median = np.array([INCOME_MEDIAN[e] for e in employment], dtype=float)
    spread = np.array([INCOME_SPREAD[e] for e in employment])
    hit = np.array([REGION_INCOME_HIT[r] for r in region])
    insecure = np.isin(employment, ("contract", "self_employed", "part_time"))
    income_cut = depth * (0.22 * hit + 0.10 * insecure)
    income = np.round(median * np.exp(rng.normal(0.0, spread)) * (1 - income_cut), -2).clip(6_000, 400_000)
    z_income = (np.log(income) - np.log(52_000)) / 0.55

    history = rng.gamma(3.0, 3.2, n) + np.where(employment == "retired", 15.0, 0.0)
    history = np.round(history.clip(0.0, 50.0), 1)
    home_logits = np.stack([
        0.4 - 0.5 * z_income - 0.05 * history,
        0.2 + 0.6 * z_income,
        -1.4 + 0.08 * history + 0.3 * z_income,
        np.full(n, -2.6),
    ], axis=1)
    home = np.array(HOME)[_categorical(rng, home_logits)]

    utilization = _sigmoid(-0.6 - 0.35 * z_income + 0.5 * depth + rng.normal(0.0, 0.9, n))
    utilization = np.round(utilization, 3)
    delinquencies = rng.poisson(np.exp(-1.7 + 1.6 * utilization - 0.04 * history + 0.3 * depth)).clip(0, 12)
    debt_to_income = np.exp(np.log(0.26) - 0.25 * z_income + rng.normal(0.0, 0.35, n)) * (1 + 0.2 * depth)
    debt_to_income = np.round(debt_to_income.clip(0.0, 1.5), 3)

    factor = np.array([PURPOSE_LOAN_FACTOR[p] for p in purpose])
    loan = np.round((income * factor * np.exp(rng.normal(np.log(0.22), 0.45, n))).clip(1_000, 50_000), -2)
    term = np.where(rng.random(n) < _sigmoid((loan - 15_000) / 6_000), 60, 36)

    logit = (
        LOGIT_INTERCEPT
        + LOGIT_RECESSION_SHIFT * depth
        - 0.45 * (1 - 0.8 * depth) * z_income
        + 0.45 * (debt_to_income - 0.28) / 0.10
        + 0.55 * (utilization - 0.38) / 0.20
        # The recession's extra weight ranks applicants within the month; it does not move
        # the month's mean (so DRIFT shapes who defaults, the shift and mix how many).
        + 0.45 * DRIFT * depth * (debt_to_income - np.median(debt_to_income)) / 0.10
        + 0.55 * DRIFT * depth * (utilization - np.median(utilization)) / 0.20
        + 0.30 * (1 - 0.7 * depth) * delinquencies
        - 0.03 * history
        + 0.25 * (term == 60)
        + 0.20 * np.log(loan / income / 0.22)
        + np.array([PURPOSE_RISK[p] for p in purpose])
        + np.array([(1 - depth) * EMPLOYMENT_RISK[e] + depth * EMPLOYMENT_RISK_RECESSION[e] for e in employment])
        + np.array([(1 - depth) * HOME_RISK[h] + depth * HOME_RISK_RECESSION[h] for h in home])
        + rng.normal(0.0, UNOBSERVED_RISK, n)
    )
    default = (rng.random(n) < _sigmoid(logit)).astype(int)

    frame = pd.DataFrame({
        "applicant_id": [f"A{first_id + i:07d}" for i in range(n)],
        "application_date": np.datetime_as_string(dates, unit="D"),
        "employment_type": employment,
        "home_ownership": home,
        "region": region,
        "purpose": purpose,
        "income": income,
        "debt_to_income": debt_to_income,
        "credit_history_years": history,
        "utilization": utilization,
        "delinquencies": delinquencies,
        "loan_amount": loan,
        "term_months": term,
        "default": default,
    })
    for column, rate in MISSING.items():
        frame[column] = frame[column].mask(rng.random(n) < rate)
    return frame


def _mix(normal: tuple[float, ...], recession: tuple[float, ...], depth: float) -> np.ndarray:
    return (1 - depth) * np.array(normal) + depth * np.array(recession)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _categorical(rng: np.random.Generator, logits: np.ndarray) -> np.ndarray:
    """One draw per row from the softmax of each row of logits."""
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    return (rng.random((len(logits), 1)) > cumulative).sum(axis=1).clip(0, logits.shape[1] - 1)


def dates_between(rng: np.random.Generator, n: int, start: str, end: str) -> np.ndarray:
    """n sorted random days in [start, end)."""
    first, last = np.datetime64(start, "D"), np.datetime64(end, "D")
    offsets = np.sort(rng.integers(0, int((last - first).astype(int)), n))
    return first + offsets.astype("timedelta64[D]")


def to_csv_text(frame: pd.DataFrame) -> str:
    """Fixed formatting: whole numbers without '.0', fractions to 3 or 1 decimals, '' for missing."""
    formats = {"income": "{:.0f}", "loan_amount": "{:.0f}", "debt_to_income": "{:.3f}", "utilization": "{:.3f}",
               "credit_history_years": "{:.1f}"}
    text = frame.copy()
    for column, pattern in formats.items():
        text[column] = [("" if pd.isna(v) else pattern.format(v)) for v in frame[column]]
    return text[list(COLUMNS)].to_csv(index=False, lineterminator="\n")


def generate(out: Path) -> list[Path]:
    """Write every file under `out`; returns their paths."""
    rng = np.random.default_rng(SEED)
    written = []
    train = applicants(rng, dates_between(rng, TRAIN_ROWS, "2025-01-01", "2026-01-01"), 1, 0.0)
    written.append(_write(out / "credit_train.csv", train))
    next_id = TRAIN_ROWS + 1
    for month in range(1, 13):
        size = int(rng.integers(MONTH_ROWS[0], MONTH_ROWS[1] + 1))
        start = f"2026-{month:02d}-01"
        end = "2027-01-01" if month == 12 else f"2026-{month + 1:02d}-01"
        batch = applicants(rng, dates_between(rng, size, start, end), next_id, severity(month))
        next_id += size
        written.append(_write(out / "production" / f"month_{month:02d}.csv", batch))
    return written


def _write(path: Path, frame: pd.DataFrame) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(to_csv_text(frame).encode("utf-8"))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="output folder")
    args = parser.parse_args()
    for path in generate(args.out):
        print(path)


if __name__ == "__main__":
    main()
