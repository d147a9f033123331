"""Batch files into windows: labels, time column, bad input, duplicates, all-missing, Dask."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from core.monitoring.ingest import ingest_files
from core.store.errors import PitboardError
from tests.conftest import T0, file_bytes
from tests.monitoring.conftest import MODEL, PRODUCTION, month

REF = f"{MODEL}@champion"


def _windows(store):
    return store.rows("SELECT * FROM monitor_windows ORDER BY window_key")


def test_a_labelled_file_with_a_time_column_gives_daily_windows_and_real_metrics(served, tmp_path):
    data = month(1).head(600).copy()
    data["scored_at"] = T0 - 2 * 86400 + np.repeat([0, 86400], 300)  # two days of epoch seconds
    path = tmp_path / "batch.csv"
    data.to_csv(path, index=False)
    store = served.open()
    report = ingest_files(store, REF, [str(path)], labels="default", time_column="scored_at")
    assert report.rows == 600 and len(report.windows) == 2
    first, second = _windows(store)
    assert (first["start"], first["n_rows"], second["n_rows"]) == (T0 - 2 * 86400, 300, 300)
    assert first["n_labelled"] == 300
    from core.registry.versions import load_estimator, resolve
    from core.serving.predict import Scorer, frame_columns

    version = resolve(store, REF)
    scorer = Scorer.build(load_estimator(store, version), version.info)
    names = [f.name for f in scorer.features]
    proba = scorer.score(scorer.check(frame_columns(data[names].head(300))))["proba_1"]
    assert json.loads(first["metrics"])["roc_auc"] == pytest.approx(roc_auc_score(data["default"].head(300), proba), abs=1e-12)
    assert store.value("SELECT COUNT(*) FROM audit WHERE action = 'monitor.ingest'") == 1


def test_the_same_file_is_never_ingested_twice(served):
    store = served.open()
    path = PRODUCTION / "month_01.csv"
    first = ingest_files(store, REF, [str(path)])
    assert first.rows > 0 and first.windows
    again = ingest_files(store, REF, [str(path)])
    assert again.rows == 0 and again.windows == [] and "already ingested" in again.skipped
    assert store.value("SELECT SUM(n_rows) FROM monitor_windows") == first.rows


def test_a_batch_missing_feature_columns_is_refused_naming_them_and_nothing_is_written(served, tmp_path, pitboard):
    path = tmp_path / "bad.csv"
    month(1).drop(columns=["income", "region"]).head(50).to_csv(path, index=False)
    served.open().close()
    before = file_bytes(served.db)
    result = pitboard("monitor", "ingest", REF, str(path))
    assert result.exit_code == 2
    assert "missing feature columns" in result.stderr and "income" in result.stderr and "region" in result.stderr
    assert file_bytes(served.db) == before


def test_wrong_values_labels_and_options_are_refused(served, tmp_path, pitboard):
    text = month(1).head(20).copy()
    text["income"] = "lots"
    bad = tmp_path / "text.csv"
    text.to_csv(bad, index=False)
    served.open().close()
    before = file_bytes(served.db)
    result = pitboard("monitor", "ingest", REF, str(bad))
    assert result.exit_code == 2 and "income" in result.stderr
    good = tmp_path / "good.csv"
    month(1).head(20).to_csv(good, index=False)
    result = pitboard("monitor", "ingest", REF, str(good), "--labels", "nope")
    assert result.exit_code == 2 and "--labels 'nope' is not a column" in result.stderr
    labels = month(1).head(20).copy()
    labels["default"] = 7
    odd = tmp_path / "odd.csv"
    labels.to_csv(odd, index=False)
    result = pitboard("monitor", "ingest", REF, str(odd), "--labels", "default")
    assert result.exit_code == 2 and "label 7 is not one of the model's classes" in result.stderr
    assert pitboard("monitor", "ingest", REF, str(tmp_path / "none.csv")).exit_code == 2
    assert file_bytes(served.db) == before


def test_a_feature_missing_in_every_row_counts_as_drifted(served, tmp_path):
    data = month(1).head(200).copy()
    data["utilization"] = np.nan
    path = tmp_path / "gap.csv"
    data.to_csv(path, index=False)
    store = served.open()
    report = ingest_files(store, REF, [str(path)])
    (window,) = _windows(store)
    row = store.row("SELECT * FROM monitor_window_features WHERE window_id = ? AND feature = 'utilization'", (window["id"],))
    assert (row["count"], row["missing"], row["test"], row["drifted"], row["statistic"]) == (0, 200, "missing", 1, None)
    assert window["n_drifted"] >= 1 and report.rows == 200


def test_recession_months_drift_on_income_and_debt_to_income(served):
    (served.db.parent / "pitboard.toml").write_text("[monitoring]\nwindow_rows = 5000\n")  # a month per window
    store = served.open()
    ingest_files(store, REF, [str(PRODUCTION / "month_01.csv")])
    ingest_files(store, REF, [str(PRODUCTION / "month_06.csv")])
    calm, recession = (
        {r["feature"]: bool(r["drifted"]) for r in store.rows(
            "SELECT feature, drifted FROM monitor_window_features WHERE window_id = ?", (w["id"],))}
        for w in _windows_in_order(store)
    )
    assert not calm["income"] and not calm["debt_to_income"]
    assert recession["income"] and recession["debt_to_income"]


def _windows_in_order(store):
    return store.rows("SELECT * FROM monitor_windows ORDER BY id")


def test_files_reduced_on_a_dask_cluster_merge_into_the_same_windows(served, tmp_path):
    from distributed import LocalCluster

    paths = []
    for n in (1, 2):
        data = month(n).head(300).copy()
        data["scored_at"] = T0 - 86400 + 60 * n  # both files in the same day
        path = tmp_path / f"part{n}.parquet"
        data.to_parquet(path)
        paths.append(path)
    store = served.open()
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp", host="127.0.0.1",
                      dashboard_address=None) as cluster:
        report = ingest_files(store, REF, [str(tmp_path / "part*.parquet")], labels="default", time_column="scored_at",
                              cluster=cluster.scheduler_address)
        assert "reduce_file" in cluster.scheduler.task_prefixes  # the files really were reduced on the cluster
    (window,) = _windows(store)
    assert report.rows == 600 and window["n_rows"] == 600 and window["n_labelled"] == 600
    income = store.row("SELECT * FROM monitor_window_features WHERE window_id = ? AND feature = 'income'", (window["id"],))
    expected = sum(int(month(n).head(300)["income"].notna().sum()) for n in (1, 2))
    assert income["count"] == expected and sum(json.loads(income["histogram"])) == expected
    assert income["test"].endswith("~")  # the merged statistic is marked as a bound
    assert store.value("SELECT COUNT(*) FROM monitor_files") == 2


def test_an_unreachable_cluster_is_one_clear_error(served, tmp_path):
    store = served.open()
    with pytest.raises(PitboardError, match="cannot reach the Dask scheduler"):
        ingest_files(store, REF, [str(PRODUCTION / "month_01.csv")], cluster="tcp://127.0.0.1:9")
    assert store.value("SELECT COUNT(*) FROM monitor_windows") == 0


def test_a_batch_without_times_says_how_its_windows_were_formed(served, tmp_path, pitboard):
    path = tmp_path / "small.csv"
    month(1).head(150).to_csv(path, index=False)
    done = pitboard("monitor", "ingest", REF, path, "--labels", "default")
    assert done.exit_code == 0, done.stderr
    assert "  note: no --time-column: windows of up to 1000 rows instead of daily" in done.stdout
    assert "rows, fewer than [alerts] min_rows = 200: drift and estimates are shown but not alerted on" in done.stdout


def test_labelled_batches_are_kept_as_a_dataset_version_each_window_can_read_back(served, tmp_path):
    from core.data import datasets
    from core.monitoring.labelled import labelled_windows

    data = month(1).head(300)
    path = tmp_path / "labelled.csv"
    data.to_csv(path, index=False)
    store = served.open()
    report = ingest_files(store, REF, [str(path)], labels="default")
    (window,) = labelled_windows(store, "credit-risk", 5)
    assert window["id"] == report.windows[0] and window["label_column"] == "default"
    kept = datasets.version_by_id(store, window["dataset_version_id"])
    assert (kept.ref, kept.n_rows, kept.target) == ("credit-risk-labelled@1", 300, "default")
    assert np.frombuffer(window["rows"], dtype=np.int64).tolist() == list(range(300))
    assert datasets.load_frame(store, kept)["income"].tolist() == pytest.approx(data["income"].tolist(), nan_ok=True)


def test_a_batch_too_thin_per_day_is_judged_in_blocks_of_rows_and_says_so(served, tmp_path, pitboard):
    data = month(1).head(600).copy()
    data["scored_at"] = T0 - 30 * 86400 + np.arange(600) // 20 * 86400  # 20 rows a day for 30 days
    path = tmp_path / "thin.csv"
    data.to_csv(path, index=False)
    done = pitboard("monitor", "ingest", REF, path, "--time-column", "scored_at")
    assert done.exit_code == 0, done.stderr
    assert ("  note: 600 rows over 30 time windows (median 20 rows, fewer than [alerts] min_rows = 200):"
            " windows of up to 1000 rows instead of daily") in done.stdout
    (window,) = _windows(served.open())
    assert (window["kind"], window["n_rows"]) == ("rows", 600)


def test_row_windows_split_a_batch_evenly_rather_than_leaving_a_thin_tail(served, tmp_path):
    path = tmp_path / "big.csv"
    data = month(1).head(1400)
    data.to_csv(path, index=False)
    store = served.open()
    ingest_files(store, REF, [str(path)])
    assert [w["n_rows"] for w in _windows(store)] == [700, 700]


@pytest.mark.parametrize(("n_rows", "most", "block"), [(1, 1000, 1), (1000, 1000, 1000), (1001, 1000, 501),
                                                       (1500, 1000, 750), (2999, 1000, 1000), (3001, 1000, 751)])
def test_even_blocks_are_at_most_the_setting_and_equal_to_within_one_row(n_rows, most, block):
    from core.monitoring.ingest import even_block

    assert even_block(n_rows, most) == block
