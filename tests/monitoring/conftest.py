"""A database with a served champion, built once per session through the real engine.

The credit sample data is imported and validated, a small LogisticRegression spec is
trained, the best run is registered as `credit-risk` v1 (which profiles its reference)
and promoted to champion through the gates. Each test gets a copy of that file.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.store.clock import fixed_clock
from core.store.database import Store
from tests.conftest import SAMPLE_DATA, T0, wait_for

SPEC = """
experiment = "credit-risk"
dataset = "credit"
target = "default"
primary_metric = "roc_auc"
seed = 5

[split]
test_size = 0.25

[search]
cv = 2

[[candidates]]
estimator = "LogisticRegression"
params = { C = [1.0], max_iter = [1000] }
"""

MODEL = "credit-risk"
DAY = 86400.0
PRODUCTION = SAMPLE_DATA / "production"


@dataclass(frozen=True)
class Served:
    """A copy of the template database, and how to open it on a given clock."""

    db: Path

    def open(self, at: float = T0) -> Store:
        return Store.open(self.db, clock=fixed_clock(at))


@pytest.fixture(scope="session")
def champion_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from core.data.datasets import add_dataset
    from core.data.validation import validate
    from core.experiments.specs import parse_spec
    from core.experiments.training import train_spec
    from core.monitoring.promotion import promote
    from core.monitoring.references import ensure_reference, register

    db = tmp_path_factory.mktemp("monitoring") / "template.db"
    with Store.open(db, clock=fixed_clock(T0)) as store:
        dv, _ = add_dataset(store, "credit", SAMPLE_DATA / "credit_train.csv", target="default",
                            time_column="application_date", id_column="applicant_id")
        validate(store, dv)
        result = train_spec(store, parse_spec(SPEC, source="tests/monitoring spec"))
        version = register(store, result.best_run_id, MODEL)
        ensure_reference(store, version)
        promotion = promote(store, f"{MODEL}@{version.version}", "champion")
        assert promotion.moved is not None, [g.to_dict() for g in promotion.gates]
    return db


@pytest.fixture
def served(champion_template: Path, db_path: Path) -> Served:
    shutil.copyfile(champion_template, db_path)
    (db_path.parent / "pitboard.toml").write_text('[serving]\nlog_interval = 0.02\n')
    return Served(db_path)


class Traffic:
    """An in-process service (its real ASGI app) whose prediction times follow a hand-moved clock."""

    def __init__(self, db: Path, ref: str = f"{MODEL}@champion") -> None:
        from fastapi.testclient import TestClient

        from core.serving.service import Service, create_app

        self.now = T0
        self.service = Service(db, ref)
        self.service.store.clock = lambda: self.now
        self.client = TestClient(create_app(self.service))
        self.client.__enter__()
        self.names = [entry["name"] for entry in self.client.get("/metadata").json()["signature"]]
        self.sent = 0
        self.labels = 0

    @property
    def deployment(self) -> int:
        return self.service.deployment_id

    def predict(self, frame, at: float, batch: int = 100) -> list[str]:
        """Score a DataFrame's signature columns at time `at`; returns the prediction ids."""
        from core.serving.predict import frame_columns

        self.now = at
        ids = []
        for first in range(0, len(frame), batch):
            response = self.client.post("/predict", json={"columns": frame_columns(frame[self.names].iloc[first:first + batch])})
            assert response.status_code == 200, response.text
            ids += [p["id"] for p in response.json()["predictions"]]
        self.sent += len(ids)
        return ids

    def feedback(self, ids: list[str], labels: list) -> dict:
        response = self.client.post("/feedback", json={"labels": [{"id": i, "label": int(v)} for i, v in zip(ids, labels)]})
        assert response.status_code == 200, response.text
        answer = response.json()
        self.labels += answer["accepted"]
        return answer

    def settle(self, store: Store, timeout: float = 30.0) -> None:
        """Wait until the log writer committed everything sent (an event in the database)."""

        def written() -> tuple[int, int]:
            rows = store.value("SELECT COALESCE(SUM(n_rows), 0) FROM prediction_batches WHERE deployment_id = ?",
                               (self.deployment,))
            return rows, store.value("SELECT COUNT(*) FROM feedback WHERE deployment_id = ?", (self.deployment,))

        def seen() -> str:
            rows, labels = written()
            return f"the log: it wrote {rows}/{self.sent} rows, {labels}/{self.labels} labels"

        wait_for(lambda: (counts := written())[0] >= self.sent and counts[1] >= self.labels,
                 what=seen, timeout=timeout, interval=0.005)

    def close(self) -> None:
        self.client.__exit__(None, None, None)


@pytest.fixture
def traffic(served: Served) -> Iterator[Traffic]:
    source = Traffic(served.db)
    yield source
    source.close()


def month(n: int):
    """Production month n of the recession scenario, as read by the real reader."""
    from core.data.tabular import read_tabular

    return read_tabular(PRODUCTION / f"month_{n:02d}.csv")
