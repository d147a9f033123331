-- Labelled batch windows keep their rows, so retraining and the promotion gate read them
-- back as they read a log window's rows: `monitor ingest --labels` stores the labelled
-- files of one ingest as a content-hashed dataset version (the lineage of any model
-- retrained on them), and each window lists which rows of that version it holds.
CREATE TABLE monitor_window_rows (
    window_id          INTEGER PRIMARY KEY REFERENCES monitor_windows (id) ON DELETE CASCADE,
    dataset_version_id INTEGER NOT NULL REFERENCES dataset_versions (id),
    label_column       TEXT NOT NULL,
    rows               BLOB NOT NULL           -- int64 row positions in the dataset version
);
CREATE INDEX monitor_window_rows_version ON monitor_window_rows (dataset_version_id);
