-- Monitoring: reference profiles of registered versions, windows of production traffic
-- reduced to per-feature statistics, ingest cursors, alerts and retraining attempts.

-- What a version's production traffic is compared with, computed once at registration.
CREATE TABLE monitor_references (
    version_id   INTEGER PRIMARY KEY REFERENCES model_versions (id),
    task         TEXT NOT NULL,                 -- classification | regression
    n_rows       INTEGER NOT NULL,              -- rows of the training data profiled
    prediction   BLOB,                          -- ReferenceProfile of the score / prediction
    performance  TEXT NOT NULL DEFAULT '{}',    -- JSON: holdout metrics
    band         TEXT NOT NULL DEFAULT '{}',    -- JSON: metric -> {mean, std, chunks, lower}
    created_at   REAL NOT NULL
);

CREATE TABLE monitor_reference_features (
    version_id INTEGER NOT NULL REFERENCES monitor_references (version_id) ON DELETE CASCADE,
    feature    TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('numeric', 'categorical', 'discrete')),  -- discrete: <= 5 numeric values
    importance REAL,                            -- permutation importance of the run, if any
    profile    BLOB NOT NULL,                   -- core.kernels.drift.ReferenceProfile bytes
    PRIMARY KEY (version_id, feature)
) WITHOUT ROWID;

-- One window of traffic of one model version from one stream ('deployment 3' for the
-- prediction log, 'file <sha256>' for a batch file). Small aggregates only: the monitor
-- pane and `monitor status` read these, never the raw log.
CREATE TABLE monitor_windows (
    id                 INTEGER PRIMARY KEY,
    model_id           INTEGER NOT NULL REFERENCES models (id),
    version_id         INTEGER NOT NULL REFERENCES model_versions (id),
    stream             TEXT NOT NULL,
    deployment_id      INTEGER REFERENCES deployments (id),
    kind               TEXT NOT NULL CHECK (kind IN ('hourly', 'daily', 'rows')),
    window_key         INTEGER NOT NULL,        -- bucket start (epoch s) or row-block number
    start              REAL NOT NULL,           -- time windows: bucket bounds; rows: first/last time
    end                REAL NOT NULL,
    seq_lo             INTEGER,                 -- prediction-log seqs covered (log windows)
    seq_hi             INTEGER,
    n_rows             INTEGER NOT NULL,
    n_features         INTEGER NOT NULL,
    n_drifted          INTEGER NOT NULL,
    drift_share        REAL NOT NULL,
    prediction_test    TEXT,
    prediction_stat    REAL,
    prediction_drifted INTEGER,
    prediction_psi     REAL,
    positive_rate      REAL,                    -- classifiers: share predicted positive
    mean_prediction    REAL,                    -- mean score or mean regression output
    latency_p50        REAL,                    -- served traffic only (ms)
    latency_p95        REAL,
    latency_p99        REAL,
    future_rows        INTEGER NOT NULL DEFAULT 0,   -- stamped after the ingest clock
    n_labelled         INTEGER NOT NULL DEFAULT 0,
    metrics            TEXT NOT NULL DEFAULT '{}',   -- JSON: real metrics from labels
    estimated          TEXT NOT NULL DEFAULT '{}',   -- JSON: CBPE estimates before labels
    created_at         REAL NOT NULL,
    updated_at         REAL NOT NULL,
    UNIQUE (model_id, stream, version_id, kind, window_key)
);
CREATE INDEX monitor_windows_model ON monitor_windows (model_id, end);

CREATE TABLE monitor_window_features (
    window_id    INTEGER NOT NULL REFERENCES monitor_windows (id) ON DELETE CASCADE,
    feature      TEXT NOT NULL,
    count        INTEGER NOT NULL,              -- non-missing values
    missing      INTEGER NOT NULL,
    test         TEXT,                          -- ks | chi2 | wasserstein | jensen_shannon
    statistic    REAL,
    p_value      REAL,
    drifted      INTEGER NOT NULL,
    psi          REAL,
    histogram    TEXT NOT NULL,                 -- JSON counts over the reference bins (mergeable)
    PRIMARY KEY (window_id, feature)
) WITHOUT ROWID;

-- Per-prediction outputs of log windows (seqs, scores, predicted class codes) so labels
-- arriving later through /feedback can be scored without the raw log. Dropped by gc.
CREATE TABLE monitor_window_outputs (
    window_id INTEGER PRIMARY KEY REFERENCES monitor_windows (id) ON DELETE CASCADE,
    seqs      BLOB NOT NULL,                    -- int64
    scores    BLOB NOT NULL,                    -- float64: positive-class probability or prediction
    codes     BLOB,                             -- int64 predicted class index (classifiers)
    feedback_mark INTEGER NOT NULL DEFAULT 0    -- SUM(rowid) of the feedback scored so far (changes on any new label)
);

-- How far the prediction log of each deployment has been reduced. Updated in the same
-- transaction that writes the windows, with a compare-and-swap on `position`, so two
-- ingest processes never count a row twice.
CREATE TABLE monitor_cursors (
    deployment_id INTEGER PRIMARY KEY REFERENCES deployments (id),
    next_seq      INTEGER NOT NULL,             -- every seq below was reduced or skipped
    seen_seq      INTEGER NOT NULL,             -- every seq below existed at the last ingest
    done_until    REAL NOT NULL,                -- time windows ending at or before are closed
    late_rows     INTEGER NOT NULL DEFAULT 0,   -- rows flushed after their window closed
    position      INTEGER NOT NULL DEFAULT 0,   -- bumped on every move (compare-and-swap)
    updated_at    REAL NOT NULL
);

-- Batch files already ingested, by content: the same file is never counted twice.
CREATE TABLE monitor_files (
    sha256      TEXT PRIMARY KEY,
    model_id    INTEGER NOT NULL REFERENCES models (id),
    version_id  INTEGER NOT NULL REFERENCES model_versions (id),
    path        TEXT NOT NULL,
    n_rows      INTEGER NOT NULL,
    n_windows   INTEGER NOT NULL,
    labels      TEXT,                           -- label column, if the file had one
    ingested_at REAL NOT NULL
);

-- Alerts: one per (window, rule), never raised twice; open -> acknowledged -> resolved.
CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY,
    model_id        INTEGER NOT NULL REFERENCES models (id),
    version_id      INTEGER NOT NULL REFERENCES model_versions (id),
    window_id       INTEGER NOT NULL REFERENCES monitor_windows (id),
    rule            TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('drift', 'performance', 'service')),
    severity        TEXT NOT NULL CHECK (severity IN ('warning', 'critical')),
    state           TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'acknowledged', 'resolved')),
    value           REAL,
    threshold       REAL,
    message         TEXT NOT NULL,
    opened_at       REAL NOT NULL,
    acknowledged_at REAL,
    acknowledged_by TEXT,
    resolved_at     REAL,
    resolved_by     TEXT,
    resolution      TEXT,
    UNIQUE (window_id, rule)
);
CREATE INDEX alerts_model_state ON alerts (model_id, state);

-- Continuous training attempts: what triggered them, what they produced, what happened.
CREATE TABLE retrains (
    id                   INTEGER PRIMARY KEY,
    model_id             INTEGER NOT NULL REFERENCES models (id),
    alert_id             INTEGER REFERENCES alerts (id),
    job_id               INTEGER REFERENCES jobs (id) ON DELETE SET NULL,
    state                TEXT NOT NULL DEFAULT 'running'
                         CHECK (state IN ('running', 'promoted', 'waiting', 'rejected', 'failed')),
    champion_version_id  INTEGER REFERENCES model_versions (id),
    challenger_version_id INTEGER REFERENCES model_versions (id),
    eval_window_id       INTEGER REFERENCES monitor_windows (id),
    metric               TEXT,
    champion_score       REAL,
    challenger_score     REAL,
    message              TEXT NOT NULL DEFAULT '',
    created_at           REAL NOT NULL,
    ended_at             REAL
);
CREATE INDEX retrains_model ON retrains (model_id, id);
