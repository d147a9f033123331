-- Datasets and their content-hashed versions (core/datasets.py), column schema and
-- profiles, and data validation reports (core/validation.py).
-- The rows of version N live in their own table, named in dataset_versions.table_name
-- (`ds_<id>`), with typed columns in file order; paging goes by rowid (1..n_rows).

CREATE TABLE datasets (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL
);

CREATE TABLE dataset_versions (
    id          INTEGER PRIMARY KEY,
    dataset_id  INTEGER NOT NULL REFERENCES datasets (id),
    version     INTEGER NOT NULL,           -- 1..N within the dataset
    sha256      TEXT NOT NULL,              -- canonical content hash (core/content_hash.py)
    n_rows      INTEGER NOT NULL,
    n_columns   INTEGER NOT NULL,
    target      TEXT,
    time_column TEXT,
    id_column   TEXT,
    table_name  TEXT NOT NULL UNIQUE,       -- ds_<id>
    source      TEXT NOT NULL,              -- the imported path, or what built the frame
    created_at  REAL NOT NULL,
    UNIQUE (dataset_id, version)
);
CREATE INDEX dataset_versions_sha256 ON dataset_versions (dataset_id, sha256);

CREATE TABLE dataset_columns (
    version_id INTEGER NOT NULL REFERENCES dataset_versions (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,            -- 0-based, file order
    name       TEXT NOT NULL,
    dtype      TEXT NOT NULL,               -- int64, float64, bool, boolean, str, datetime64[ns]
    role       TEXT NOT NULL
               CHECK (role IN ('numeric', 'categorical', 'boolean', 'datetime', 'text', 'target', 'id')),
    profile    TEXT NOT NULL,               -- JSON (core/profiling.py)
    PRIMARY KEY (version_id, position),
    UNIQUE (version_id, name)
);

CREATE TABLE validation_reports (
    id         INTEGER PRIMARY KEY,
    version_id INTEGER NOT NULL REFERENCES dataset_versions (id) ON DELETE CASCADE,
    against_id INTEGER REFERENCES dataset_versions (id) ON DELETE SET NULL,
    ok         INTEGER NOT NULL,            -- 1 when no error-level check failed
    n_errors   INTEGER NOT NULL,
    n_warnings INTEGER NOT NULL,
    checks     TEXT NOT NULL,               -- JSON list of checks
    created_at REAL NOT NULL
);
CREATE INDEX validation_reports_version ON validation_reports (version_id, id);
