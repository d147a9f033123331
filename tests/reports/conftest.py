"""A database with every kind of fact a report reads, built once through the real engine.

The monitoring tests' template (validated credit data, `credit-risk` v1 trained, registered
and promoted through its gates) gets a weak second run registered as v2 but never
promoted, and two production months ingested with their labels. The code version, training durations and user
recorded by training and registration are pinned, so snapshots do not change with every commit.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from core.store.clock import fixed_clock
from core.store.database import Store
from tests.conftest import SAMPLE_DATA, T0
from tests.monitoring.conftest import SPEC, champion_template  # noqa: F401 (fixture)

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class MarkdownSnapshot(SingleFileSnapshotExtension):
    """One `.md` file per snapshot: the report exactly as a pull request would show it."""

    _write_mode = WriteMode.TEXT
    _file_extension = "md"


@pytest.fixture
def md_snapshot(snapshot):  # type: ignore[no-untyped-def]
    return snapshot.use_extension(MarkdownSnapshot)


# The monitoring template's spec with its one candidate replaced by a weak one.
WEAK_SPEC = SPEC.split("[[candidates]]")[0] + '[[candidates]]\nestimator = "DecisionTreeClassifier"\nparams = { max_depth = [1] }\n'


@pytest.fixture(scope="session")
def report_template(champion_template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:  # noqa: F811
    from core.experiments.specs import parse_spec
    from core.experiments.training import train_spec
    from core.monitoring.ingest import ingest_files
    from core.monitoring.references import register

    db = tmp_path_factory.mktemp("reports") / "reports.db"
    shutil.copyfile(champion_template, db)
    with Store.open(db, clock=fixed_clock(T0)) as store:
        good = store.value("SELECT run_id FROM model_versions WHERE version = 1")
        weak = train_spec(store, parse_spec(WEAK_SPEC, source="tests/reports weak spec")).best_run_id
        register(store, weak, "credit-risk")
        with store.transaction():
            store.conn.execute("UPDATE runs SET git_commit = ?, git_dirty = 0, duration = 1.25", (COMMIT,))
            store.conn.execute("UPDATE model_versions SET created_by = 'ci'")  # not the user running the tests
            store.conn.execute("UPDATE alias_history SET user = 'ci'")
            store.conn.execute("UPDATE model_versions SET info = json_set(info, '$.git_commit', ?, '$.git_dirty', json('false'))",
                               (COMMIT,))
        for month, day in (("01", 0), ("09", 30)):  # batches without a time column: windows take the ingest time
            store.clock = fixed_clock(T0 + day * 86_400)
            ingest_files(store, "credit-risk@champion", [str(SAMPLE_DATA / "production" / f"month_{month}.csv")],
                         labels="default")
    return {"db": db, "good": str(good), "weak": str(weak)}


@pytest.fixture
def report_db(report_template: dict, db_path: Path) -> dict:
    shutil.copyfile(report_template["db"], db_path)
    return {**report_template, "db": db_path}
