-- The model registry: named models, numbered versions (each one run's fitted pipeline,
-- whose bytes stay in `artifacts` by SHA-256), aliases and the history of every move.
CREATE TABLE models (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_at  REAL NOT NULL
);

CREATE TABLE model_versions (
    id           INTEGER PRIMARY KEY,
    model_id     INTEGER NOT NULL REFERENCES models (id),
    version      INTEGER NOT NULL,              -- 1..N within the model
    run_id       INTEGER REFERENCES runs (id),   -- NULL: imported from a bundle
    model_sha256 TEXT NOT NULL REFERENCES artifacts (sha256),
    source       TEXT NOT NULL,                  -- 'run 12' or 'bundle <manifest sha256>'
    info         TEXT NOT NULL,                  -- JSON: task, signature, classes, metrics, lineage
    description  TEXT NOT NULL DEFAULT '',
    created_by   TEXT NOT NULL,
    created_at   REAL NOT NULL,
    UNIQUE (model_id, version)
);
CREATE INDEX model_versions_run ON model_versions (run_id);

-- Where each alias points now.
CREATE TABLE model_aliases (
    model_id   INTEGER NOT NULL REFERENCES models (id),
    alias      TEXT NOT NULL,
    version_id INTEGER NOT NULL REFERENCES model_versions (id),
    updated_at REAL NOT NULL,
    PRIMARY KEY (model_id, alias)
);

-- Every alias move: set, remove, promote (with the gate results), rollback.
CREATE TABLE alias_history (
    id              INTEGER PRIMARY KEY,
    model_id        INTEGER NOT NULL REFERENCES models (id),
    alias           TEXT NOT NULL,
    action          TEXT NOT NULL CHECK (action IN ('set', 'remove', 'promote', 'rollback')),
    from_version_id INTEGER REFERENCES model_versions (id),   -- NULL: the alias was free
    to_version_id   INTEGER REFERENCES model_versions (id),   -- NULL: the alias was removed
    undoes          INTEGER REFERENCES alias_history (id),    -- the move a rollback reverts
    forced          INTEGER NOT NULL DEFAULT 0,
    reason          TEXT NOT NULL DEFAULT '',
    gates           TEXT NOT NULL DEFAULT '[]',               -- JSON gate results of a promote
    user            TEXT NOT NULL,
    ts              REAL NOT NULL
);
CREATE INDEX alias_history_alias ON alias_history (model_id, alias, id);

CREATE TABLE model_tags (
    model_id INTEGER NOT NULL REFERENCES models (id),
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (model_id, key)
);

CREATE TABLE model_version_tags (
    version_id INTEGER NOT NULL REFERENCES model_versions (id),
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (version_id, key)
);

-- One row per `pitboard serve` process: what it served, where, from when to when.
CREATE TABLE deployments (
    id         INTEGER PRIMARY KEY,
    model_id   INTEGER NOT NULL REFERENCES models (id),
    version_id INTEGER NOT NULL REFERENCES model_versions (id),   -- the version at start
    alias      TEXT,                                             -- NULL: a pinned version
    host       TEXT NOT NULL,
    port       INTEGER NOT NULL,
    pid        INTEGER NOT NULL,
    started_at REAL NOT NULL,
    ended_at   REAL
);

-- The prediction log, one row per writer flush (not per prediction): the flushed rows are
-- an Arrow IPC stream with one column per feature (`feature.<name>`), per output
-- (`output.label`, `output.proba.<class>` or `output.prediction`) and per meta field
-- (`meta.ts`, `meta.request`, `meta.latency_ms`). Prediction ids are `<deployment>-<seq>`
-- and each flush covers the contiguous seqs [first_seq, first_seq + n_rows).
CREATE TABLE prediction_batches (
    id            INTEGER PRIMARY KEY,
    deployment_id INTEGER NOT NULL REFERENCES deployments (id),
    version_id    INTEGER NOT NULL REFERENCES model_versions (id),
    first_seq     INTEGER NOT NULL,
    n_rows        INTEGER NOT NULL CHECK (n_rows > 0),
    ts_min        REAL NOT NULL,
    ts_max        REAL NOT NULL,
    data          BLOB NOT NULL
);
CREATE INDEX prediction_batches_seq ON prediction_batches (deployment_id, first_seq);
CREATE INDEX prediction_batches_time ON prediction_batches (version_id, ts_min);

-- True labels sent back through POST /feedback, keyed like prediction ids.
CREATE TABLE feedback (
    deployment_id INTEGER NOT NULL REFERENCES deployments (id),
    seq           INTEGER NOT NULL,
    label,                     -- no type: stored exactly as sent (int, float or text)
    ts            REAL NOT NULL,
    PRIMARY KEY (deployment_id, seq)
);
