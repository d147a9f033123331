"""The schema, as numbered migrations applied in order by `core.store.database.Store`.

`NNNN_name.sql` holds plain SQL statements. When existing data must be converted in ways
SQL cannot express, a module `NNNN_name.py` beside it defines `migrate(conn)`, which the
store calls right after that file's SQL, in the same exclusive transaction: a failure
anywhere leaves the database at the previous version. A migration that has landed is
never edited.
"""
