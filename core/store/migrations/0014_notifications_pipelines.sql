-- Notifications: every event people may want to hear about (an alert opened, escalated or
-- resolved, a promotion, a rollback, a retrain that finished or failed, a failed job or
-- pipeline) is written to `outbox` in the transaction that made it happen, so an event is
-- never announced for a change that was rolled back, nor lost for one that committed.
-- The delivery worker fans each event out to the configured targets (`deliveries`, one
-- row per event and target) and keeps every try (`delivery_attempts`).
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,      -- the idempotency key receivers deduplicate on
    kind        TEXT NOT NULL,             -- alert.opened, promotion, job.failed, ...
    severity    TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    model       TEXT,                      -- the model it concerns, if any
    subject     TEXT NOT NULL,             -- one line for people
    details     TEXT NOT NULL DEFAULT '{}',
    created_at  REAL NOT NULL,
    fanned_out  INTEGER NOT NULL DEFAULT 0 -- 1 once its delivery rows exist
);
CREATE INDEX outbox_pending ON outbox (fanned_out) WHERE fanned_out = 0;

CREATE TABLE deliveries (
    id            INTEGER PRIMARY KEY,
    event_id      INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    target        TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       REAL NOT NULL,           -- not tried again before this time (backoff)
    claimed_by    TEXT,                    -- the worker holding it, until claimed_until
    claimed_until REAL,
    last_error    TEXT,
    delivered_at  REAL,
    UNIQUE (event_id, target)
);
CREATE INDEX deliveries_due ON deliveries (state, next_at);

CREATE TABLE delivery_attempts (
    id          INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    ts          REAL NOT NULL,
    ok          INTEGER NOT NULL,
    status      INTEGER,                   -- the HTTP status or exit code, if any answer came
    error       TEXT
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id);

-- Pipelines (`pitboard pipeline run`): every run of a pipeline file and what each of its
-- stages did. A stage is skipped when a previous successful run of it had the same
-- fingerprint (its settings, the content hashes of its inputs, the code version).
CREATE TABLE pipeline_runs (
    id           INTEGER PRIMARY KEY,
    pipeline     TEXT NOT NULL,            -- the pipeline's name
    path         TEXT NOT NULL,            -- the file it was read from
    spec_sha256  TEXT NOT NULL,
    code_version TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'passed', 'failed')),
    failed_stage TEXT,
    message      TEXT NOT NULL DEFAULT '',
    report       TEXT,                     -- JSON: the run's summary report (pitboard.report/1)
    started_at   REAL NOT NULL,
    ended_at     REAL
);
CREATE INDEX pipeline_runs_pipeline ON pipeline_runs (pipeline, id);

CREATE TABLE pipeline_stages (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES pipeline_runs (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    stage       TEXT NOT NULL,
    kind        TEXT NOT NULL,             -- data, validate, train, register, gate, package, promote
    state       TEXT NOT NULL CHECK (state IN ('ran', 'skipped', 'failed', 'not_run')),
    fingerprint TEXT,
    inputs      TEXT NOT NULL DEFAULT '{}',  -- JSON: input name -> content hash or value
    outputs     TEXT NOT NULL DEFAULT '{}',  -- JSON: what the stage produced (refs, ids, paths)
    reason      TEXT NOT NULL DEFAULT '',    -- why it ran or was skipped
    verdict     TEXT NOT NULL DEFAULT '',    -- a check's or gate's outcome, or the error
    duration    REAL,
    UNIQUE (run_id, stage)
);
CREATE INDEX pipeline_stages_cache ON pipeline_stages (stage, fingerprint);
