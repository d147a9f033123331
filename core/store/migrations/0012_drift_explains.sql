-- Drift that explains itself. Multivariate drift (core.monitoring.multivariate): the
-- reference's PCA reconstruction model and error band, and each window's reconstruction sums.
-- JSON: the fitted model, or {"none": why there is none}. NULL: built before this migration.
ALTER TABLE monitor_references ADD COLUMN multivariate TEXT;

-- Sums, so that merged windows are exact; the error and verdict are kept for listings.
CREATE TABLE monitor_window_multivariate (
    window_id INTEGER PRIMARY KEY REFERENCES monitor_windows (id) ON DELETE CASCADE,
    n_rows    INTEGER NOT NULL,
    error_sum REAL NOT NULL,                    -- sum of row reconstruction errors
    sse       TEXT NOT NULL,                    -- JSON {feature: sum of squared errors}
    error     REAL,                             -- mean row error (NULL without rows)
    lower     REAL NOT NULL,                    -- the reference band
    upper     REAL NOT NULL,
    drifted   INTEGER NOT NULL,
    top       TEXT NOT NULL                     -- JSON [[feature, rise of its squared error per row], ...]
);

-- Segments (core.monitoring.segments): how a version's reference cuts rows by a column,
-- with each reference segment's per-feature histograms; built when first asked for.
CREATE TABLE monitor_reference_segments (
    version_id  INTEGER NOT NULL REFERENCES model_versions (id) ON DELETE CASCADE,
    column_name TEXT NOT NULL,
    bins        INTEGER NOT NULL,               -- quantile slices of a numeric column
    spec        TEXT NOT NULL,                  -- JSON SegmentReference
    PRIMARY KEY (version_id, column_name, bins)
) WITHOUT ROWID;

-- Each window's segments: rows, per-feature histograms (mergeable), labelled metrics.
CREATE TABLE monitor_window_segments (
    window_id   INTEGER NOT NULL REFERENCES monitor_windows (id) ON DELETE CASCADE,
    column_name TEXT NOT NULL,
    segment     TEXT NOT NULL,
    n_rows      INTEGER NOT NULL,
    histograms  TEXT NOT NULL,                  -- JSON {feature: counts over the reference bins}
    n_labelled  INTEGER NOT NULL,
    metrics     TEXT NOT NULL,                  -- JSON {metric: value}
    PRIMARY KEY (window_id, column_name, segment)
) WITHOUT ROWID;
