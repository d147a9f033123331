"""The bottom of the engine: the SQLite database and what every stage above it shares.

`database` (Store: WAL, migrations, transactions, audit), `migrations/`, `config`
(pitboard.toml sections), `model_settings` (per-model overrides), `clock`, `errors`,
`refs` (names and `NAME@REF` references) and `artifacts` (content-addressed blobs). It
knows nothing of pandas, scikit-learn or any lifecycle stage.
"""
