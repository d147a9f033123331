-- Dataset rows move from one table per version (`ds_<id>`, one SQLite row per data row)
-- to columnar chunks: a version's rows, cut into runs of core.chunks.ROWS_PER_CHUNK rows,
-- each stored as ONE row whose `data` is an Arrow IPC stream (see core/chunks.py). One
-- INSERT per data row made a million-row import spend ~4 s in SQLite; a chunk costs
-- about its compressed size. Pages are found by `first_row`.
--
-- 0006_dataset_chunks.py then moves the rows of every existing ds_<id> table into chunks
-- and drops the table, in this same transaction. `dataset_versions.table_name` no longer
-- names a table (SQLite cannot drop a UNIQUE column); it now holds
-- 'dataset_chunks:<version id>', where the rows are.

CREATE TABLE dataset_chunks (
    version_id  INTEGER NOT NULL REFERENCES dataset_versions (id) ON DELETE CASCADE,
    chunk_index INTEGER NOT NULL,           -- 0, 1, ... in row order
    first_row   INTEGER NOT NULL,           -- 0-based row number of the chunk's first row
    n_rows      INTEGER NOT NULL,
    data        BLOB NOT NULL,              -- Arrow IPC stream: one record batch, one field per column
    PRIMARY KEY (version_id, chunk_index)
);
