-- Failed prediction requests, for the error-rate alert (see core/service_errors.py).

-- One row per prediction-log flush that had errors, written in the flush's transaction.
-- `data` holds one fixed-width record per error: version id (int64), HTTP status (int16),
-- time (float64) and the seq the next prediction was to get (int64), all little-endian.
CREATE TABLE request_errors (
    id            INTEGER PRIMARY KEY,
    deployment_id INTEGER NOT NULL REFERENCES deployments (id),
    n_client      INTEGER NOT NULL,             -- 4xx: invalid input (422), body too large (413)
    n_server      INTEGER NOT NULL,             -- 5xx
    ts_min        REAL NOT NULL,
    ts_max        REAL NOT NULL,
    seq_min       INTEGER NOT NULL,
    seq_max       INTEGER NOT NULL,
    data          BLOB NOT NULL
);
CREATE INDEX request_errors_time ON request_errors (deployment_id, ts_max);
CREATE INDEX request_errors_seq ON request_errors (deployment_id, seq_max);

-- Served traffic of a window: requests answered, requests failed, and their ratio
-- errors / (answered + errors). Batch-file windows have no requests: n_requests and
-- error_rate stay NULL there, n_errors 0.
ALTER TABLE monitor_windows ADD COLUMN n_requests INTEGER;
ALTER TABLE monitor_windows ADD COLUMN n_errors INTEGER NOT NULL DEFAULT 0;
ALTER TABLE monitor_windows ADD COLUMN n_server_errors INTEGER NOT NULL DEFAULT 0;
ALTER TABLE monitor_windows ADD COLUMN error_rate REAL;

-- Row-count windows place errors by seq: every error with a seq below this was counted.
-- (Time windows place them by time, up to `done_until`.)
ALTER TABLE monitor_cursors ADD COLUMN error_seq INTEGER NOT NULL DEFAULT 1;
