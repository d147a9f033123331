-- Experiments: searches, runs (a flat list grouped by search id), their params, metrics,
-- metric points and curves; content-addressed artifacts; background jobs.

-- Blobs by SHA-256 (fitted pipelines in skops format). Shared by runs and registered model
-- versions; `pitboard gc` deletes only blobs that no foreign key references any more.
CREATE TABLE artifacts (
    sha256     TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    data       BLOB NOT NULL,
    created_at REAL NOT NULL
);

CREATE TABLE experiments (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL
);

-- Background work in a detached worker process (see core/jobs.py).
CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL,               -- a key of core.jobs.JOB_KINDS
    title            TEXT NOT NULL,
    args             TEXT NOT NULL DEFAULT '{}',  -- JSON keyword arguments
    state            TEXT NOT NULL DEFAULT 'queued'
                     CHECK (state IN ('queued', 'running', 'finished', 'failed', 'cancelled')),
    pid              INTEGER,
    host             TEXT,
    progress         REAL NOT NULL DEFAULT 0,     -- 0..1
    message          TEXT NOT NULL DEFAULT '',
    heartbeat        REAL,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    log_path         TEXT,
    log_tail         TEXT NOT NULL DEFAULT '',
    result           TEXT,                        -- JSON returned by the job function
    error            TEXT,
    created_at       REAL NOT NULL,
    started_at       REAL,
    ended_at         REAL
);
CREATE INDEX jobs_state ON jobs (state);

-- One `pitboard train` invocation: the spec and data every run of it shares.
CREATE TABLE searches (
    id                 INTEGER PRIMARY KEY,
    experiment_id      INTEGER NOT NULL REFERENCES experiments (id),
    dataset_version_id INTEGER NOT NULL REFERENCES dataset_versions (id),
    spec_text          TEXT NOT NULL,
    spec_source        TEXT NOT NULL,
    method             TEXT NOT NULL,             -- grid | random
    n_candidates       INTEGER NOT NULL,
    cluster            TEXT,                      -- dask scheduler address, if any
    job_id             INTEGER REFERENCES jobs (id) ON DELETE SET NULL,
    started_at         REAL NOT NULL
);

-- A run is written once, complete, in one transaction: FINISHED with everything, or
-- FAILED with the error. `deleted_at` marks a soft delete (purged by `pitboard gc`).
CREATE TABLE runs (
    id                 INTEGER PRIMARY KEY,
    experiment_id      INTEGER NOT NULL REFERENCES experiments (id),
    search_id          INTEGER NOT NULL REFERENCES searches (id),
    candidate          INTEGER NOT NULL,          -- index of the [[candidates]] entry
    config             TEXT NOT NULL,             -- JSON: the spec-level params of this run
    status             TEXT NOT NULL CHECK (status IN ('FINISHED', 'FAILED')),
    task               TEXT NOT NULL CHECK (task IN ('classification', 'regression')),
    estimator          TEXT NOT NULL,
    primary_metric     TEXT NOT NULL,
    dataset_version_id INTEGER NOT NULL REFERENCES dataset_versions (id),
    model_sha256       TEXT REFERENCES artifacts (sha256),
    signature          TEXT NOT NULL DEFAULT '[]',  -- JSON list of input features
    classes            TEXT,                        -- JSON list (classifiers)
    feature_importance TEXT NOT NULL DEFAULT '[]',  -- JSON list of {feature, mean, std}
    holdout_size       INTEGER NOT NULL,
    git_commit         TEXT,
    git_dirty          INTEGER,
    env                TEXT NOT NULL DEFAULT '{}',  -- JSON: python, platform, packages
    seed               INTEGER NOT NULL,
    started_at         REAL NOT NULL,
    ended_at           REAL NOT NULL,
    duration           REAL NOT NULL,             -- seconds of training and evaluation
    error              TEXT,
    deleted_at         REAL
);
CREATE INDEX runs_experiment ON runs (experiment_id, deleted_at);
CREATE INDEX runs_search ON runs (search_id);

CREATE TABLE params (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  TEXT,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX params_key ON params (key, value);

-- Summary values: holdout metrics and cv_<metric>_mean / cv_<metric>_std.
CREATE TABLE metrics (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  REAL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX metrics_key ON metrics (key, value);

-- Series: per-fold CV values (key cv_<metric>, step = fold) and training curves.
CREATE TABLE metric_points (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    step   INTEGER NOT NULL,
    value  REAL,
    PRIMARY KEY (run_id, key, step)
) WITHOUT ROWID;

CREATE TABLE tags (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  TEXT,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

-- Downsampled ROC and precision-recall curves of classifiers on the holdout.
CREATE TABLE curves (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name   TEXT NOT NULL,                         -- roc | pr
    x      TEXT NOT NULL,                         -- JSON list (fpr | recall)
    y      TEXT NOT NULL,                         -- JSON list (tpr | precision)
    PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
