"""The labelled rows of production traffic, read back as frames shaped like the training data.

Retraining learns from them and the promotion gate judges a challenger on the newest of
them. Two kinds of window hold labelled rows: a window of the prediction log (features
from the log, labels from `/feedback`) and a window of labelled batch files (`monitor
ingest --labels`), whose rows were kept as a dataset version.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.store.database import Store
from core.store.errors import PitboardError


def labelled_windows(store: Store, model: str, limit: int) -> list[dict[str, Any]]:
    """The newest windows of `model` with labelled rows to read back, newest first."""
    rows = store.rows(
        """SELECT w.id, w.deployment_id, w.seq_lo, w.seq_hi, w.n_labelled, w.end, o.seqs,
                  r.dataset_version_id, r.label_column, r.rows
           FROM monitor_windows w JOIN models m ON m.id = w.model_id
           LEFT JOIN monitor_window_outputs o ON o.window_id = w.id
           LEFT JOIN monitor_window_rows r ON r.window_id = w.id
           WHERE m.name = ? AND w.n_labelled > 0 AND (o.window_id IS NOT NULL OR r.window_id IS NOT NULL)
           ORDER BY w.end DESC, w.id DESC LIMIT ?""",
        (model, limit),
    )
    return [dict(r) for r in rows]


def latest_window_xy(store: Store, model: str, run: Any) -> tuple[dict[str, Any], Any, Any] | None:
    """The newest labelled window of `model`'s served traffic as (window, X, y), shaped like
    `run`'s training data; None when there is none. Raises PitboardError when the window
    exists but its rows cannot be read (they have left the log)."""
    from core.data import datasets
    from core.experiments.specs import parse_spec

    windows = labelled_windows(store, model, 1)
    if not windows:
        return None
    base = datasets.version_by_id(store, run.dataset_version_id)
    target = parse_spec(run.spec_text, source=f"run {run.id} spec").target or base.target
    X, y = window_xy(store, windows[0], target, datasets.load_frame(store, base))
    return windows[0], X, y


def window_xy(store: Store, window: dict[str, Any], target: str, like: Any) -> tuple[Any, Any]:
    """(features, labels) of a window's labelled rows, with the training data's dtypes."""
    frame = window_frame(store, window, target, like, None, None)
    return frame.drop(columns=[target]), frame[target]


def window_frame(store: Store, window: dict[str, Any], target: str, like: Any, time_column: str | None,
                 id_column: str | None) -> Any:
    """The labelled rows of one window as a DataFrame shaped like the training data."""
    if window.get("dataset_version_id") is not None:
        return _batch_frame(store, window, target, like, time_column, id_column)
    return _log_frame(store, window, target, like, time_column, id_column)


def _batch_frame(store: Store, window: dict[str, Any], target: str, like: Any, time_column: str | None,
                 id_column: str | None) -> Any:
    """A batch window's labelled rows, from the dataset version its ingest kept.

    Columns the training data has are taken by name (the label column as the target).
    A time column the batch lacks gets the window's end (when the rows were judged), an
    id column it lacks `batch<version>-<row>` (negated `version * 10**12 + row` for
    numeric ids, which cannot collide with real ones), other columns stay empty, as for
    log windows. Rows without a label are dropped: there is nothing to learn from them.
    """
    import pandas as pd

    from core.data import datasets

    kept = datasets.version_by_id(store, window["dataset_version_id"])
    rows = np.frombuffer(window["rows"], dtype=np.int64)
    batch = datasets.load_frame(store, kept).iloc[rows]
    labelled = batch[window["label_column"]].notna().to_numpy()
    batch, rows = batch[labelled].reset_index(drop=True), rows[labelled]
    frame = pd.DataFrame(index=range(len(batch)))
    for column in like.columns:
        source = window["label_column"] if column == target else column
        if source in batch.columns:
            frame[column] = batch[source].astype(like[column].dtype)
        elif column == time_column:
            frame[column] = pd.Series(pd.to_datetime(np.full(len(batch), window["end"]), unit="s")).astype(like[column].dtype)
        elif column == id_column:
            if pd.api.types.is_numeric_dtype(like[column].dtype):
                frame[column] = -(kept.id * 10**12 + rows)
            else:
                frame[column] = [f"batch{kept.id}-{row}" for row in rows]
        elif pd.api.types.is_numeric_dtype(like[column].dtype):
            frame[column] = np.full(len(batch), np.nan)
        else:
            frame[column] = pd.Series([None] * len(batch), dtype=object)
    return frame


def _log_frame(store: Store, window: dict[str, Any], target: str, like: Any, time_column: str | None,
               id_column: str | None) -> Any:
    """The labelled rows of one log window as a DataFrame shaped like the training data.

    Features come from the prediction log, labels from /feedback; the time column (if the
    training data has one) gets the prediction time, the id column the prediction id
    (`<deployment>-<seq>`; negated `deployment * 10**12 + seq` for numeric ids, which
    cannot collide with real ones); other columns the log does not have are left empty.
    """
    import pandas as pd

    from core.monitoring.ingest import FEATURE, META, _read_log

    seqs = np.frombuffer(window["seqs"], dtype=np.int64)
    labels = {int(r["seq"]): r["label"] for r in store.rows(
        "SELECT seq, label FROM feedback WHERE deployment_id = ? AND seq BETWEEN ? AND ?",
        (window["deployment_id"], window["seq_lo"], window["seq_hi"]),
    )}
    wanted = np.array(sorted(set(seqs.tolist()) & set(labels)), dtype=np.int64)
    table = _read_log(store, window["deployment_id"], window["seq_lo"])
    if table is None or not len(wanted):
        raise PitboardError(f"window {window['id']}: its rows are no longer in the prediction log (retention); cannot retrain on it")
    logged = table.column(META + "seq").to_numpy()
    table = table.take(np.flatnonzero(np.isin(logged, wanted)))
    frame = pd.DataFrame(index=range(table.num_rows))
    for column in like.columns:
        if column == target:
            values = [labels[int(s)] for s in table.column(META + "seq").to_numpy()]
            frame[column] = pd.Series(values, dtype=like[column].dtype)
        elif column == time_column:
            seconds = table.column(META + "ts").to_numpy(zero_copy_only=False).astype(np.float64)
            frame[column] = pd.to_datetime(seconds, unit="s").astype(like[column].dtype)
        elif column == id_column:
            seq = table.column(META + "seq").to_numpy()
            if pd.api.types.is_numeric_dtype(like[column].dtype):
                frame[column] = -(window["deployment_id"] * 10**12 + seq)
            else:
                frame[column] = [f"{window['deployment_id']}-{s}" for s in seq]
        elif FEATURE + column in table.column_names:
            frame[column] = table.column(FEATURE + column).to_pandas().astype(like[column].dtype)
        elif pd.api.types.is_numeric_dtype(like[column].dtype):
            frame[column] = np.full(table.num_rows, np.nan)
        else:
            frame[column] = pd.Series([None] * table.num_rows, dtype=object)
    return frame
