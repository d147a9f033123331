"""The app tests' database, built through the real engine with the pinned clock.

Seeded data, so every build is identical: the credit data set (two versions, the second
shifted the way a recession shifts it) and a small regression data set.
"""

from __future__ import annotations

from pathlib import Path

from core.store.clock import fixed_clock
from core.store.database import Store
from tests.conftest import T0


def credit_frame(rows: int, *, seed: int, recession: bool = False):  # type: ignore[no-untyped-def]
    """Loan applicants with a default label; `recession` lowers income and raises debt."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    income = rng.lognormal(10.8, 0.4, rows) * (0.8 if recession else 1.0)
    dti = np.clip(rng.normal(0.45 if recession else 0.3, 0.1, rows), 0, 1)
    employment = rng.choice(["salaried", "self-employed", "unemployed"], rows, p=[0.7, 0.2, 0.1])
    risk = 3 * dti - income / 60_000 + (employment == "unemployed") * 1.0
    default = (rng.random(rows) < 1 / (1 + np.exp(-(risk - 1.5)))).astype("int64")
    income[rng.random(rows) < 0.03] = np.nan
    return pd.DataFrame({
        "applicant_id": np.arange(1, rows + 1),
        "income": income.round(2),
        "debt_to_income": dti.round(3),
        "employment": employment,
        "home": rng.choice(["rent", "own", "mortgage"], rows),
        "term": rng.choice([36, 60], rows),
        "default": default,
    })


def build(path: Path) -> None:
    """Create the fixture database at `path`."""
    import numpy as np
    import pandas as pd

    from core.data import datasets
    from core.data.validation import validate

    with Store.open(path, clock=fixed_clock(T0)) as store:
        datasets.add_frame(store, "credit", credit_frame(400, seed=1), source="fixture credit v1", target="default")
        store.clock = fixed_clock(T0 + 86_400)
        v2, _ = datasets.add_frame(store, "credit", credit_frame(300, seed=2, recession=True), source="fixture credit v2")
        validate(store, v2, datasets.resolve(store, "credit@1"))
        rng = np.random.default_rng(3)
        area = rng.uniform(30, 200, 120).round(1)
        prices = pd.DataFrame({"area": area, "rooms": (area // 25).astype("int64"), "price": (area * 3100 + rng.normal(0, 9000, 120)).round(0)})
        datasets.add_frame(store, "prices", prices, source="fixture prices", target="price")
