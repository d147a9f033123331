-- Fleet ingest (issue 15): replicas that log to segment files in a folder or object store,
-- pulled into this database by `pitboard monitor ingest NAME --from URL`.
--
-- Every model's fleet traffic lands in ONE deployment row (fleet_deployments), so its
-- windows, drift and alerts are formed exactly as for one local deployment. Each ingested
-- prediction segment gets the next seq range of that deployment (seqs in ingest order,
-- which is what the log cursor of core.monitoring.ingest expects); fleet_seq_ranges maps a
-- replica's own seqs (in its prediction ids) to those, for feedback that arrives later.

CREATE TABLE fleet_deployments (
    model_id      INTEGER PRIMARY KEY REFERENCES models (id),
    deployment_id INTEGER NOT NULL UNIQUE REFERENCES deployments (id)
);

-- One row per replica seen in segment names: what the Monitor pane shows.
CREATE TABLE fleet_replicas (
    id              INTEGER PRIMARY KEY,
    model_id        INTEGER NOT NULL REFERENCES models (id),
    replica         TEXT NOT NULL,              -- host_pid_startms_key, from the segment names
    replica_key     INTEGER NOT NULL,           -- the number in its prediction ids
    host            TEXT NOT NULL,
    pid             INTEGER NOT NULL,
    started_at      REAL NOT NULL,              -- the replica's clock
    first_segment_at REAL NOT NULL,             -- segment flush times, the replica's clock
    last_segment_at REAL NOT NULL,
    rows            INTEGER NOT NULL DEFAULT 0,
    requests        INTEGER NOT NULL DEFAULT 0,
    segments        INTEGER NOT NULL DEFAULT 0,
    UNIQUE (model_id, replica_key)
);

CREATE TABLE fleet_seq_ranges (
    replica_id  INTEGER NOT NULL REFERENCES fleet_replicas (id),
    first_seq   INTEGER NOT NULL,               -- the replica's seq
    n_rows      INTEGER NOT NULL,
    fleet_seq   INTEGER NOT NULL,               -- the fleet deployment's seq of first_seq
    PRIMARY KEY (replica_id, first_seq)
);

-- The ledger: every segment looked at, written in the transaction that takes its rows in.
CREATE TABLE fleet_segments (
    id          INTEGER PRIMARY KEY,
    model_id    INTEGER NOT NULL REFERENCES models (id),
    name        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    kind        TEXT NOT NULL,                  -- pred | fb | err
    status      TEXT NOT NULL CHECK (status IN ('ingested', 'duplicate', 'corrupt')),
    replica_id  INTEGER REFERENCES fleet_replicas (id),
    n_rows      INTEGER NOT NULL DEFAULT 0,
    written_at  REAL,
    ingested_at REAL NOT NULL,
    detail      TEXT,
    UNIQUE (model_id, name)
);
CREATE UNIQUE INDEX fleet_segments_content ON fleet_segments (model_id, sha256) WHERE status = 'ingested';

-- Labels for predictions no ingested segment holds yet: retried at every ingest.
CREATE TABLE fleet_pending_feedback (
    id          INTEGER PRIMARY KEY,
    model_id    INTEGER NOT NULL REFERENCES models (id),
    replica_key INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    label,
    ts          REAL NOT NULL
);
CREATE INDEX fleet_pending_feedback_model ON fleet_pending_feedback (model_id);
