-- The audit log: every mutating action writes one row in the same transaction.
CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    ts      REAL NOT NULL,              -- UTC epoch seconds
    user    TEXT NOT NULL,              -- operating-system user
    action  TEXT NOT NULL,              -- e.g. data.add, model.promote
    object  TEXT NOT NULL,              -- e.g. credit@2, credit-risk@champion
    details TEXT NOT NULL DEFAULT '{}'  -- JSON
);
CREATE INDEX audit_ts ON audit (ts);
CREATE INDEX audit_object ON audit (object);
