"""Data: datasets as content-hashed versions, stored as compressed columnar chunks.

`tabular` reads users' CSV and Parquet files, `datasets` imports and resolves versions,
`chunks` and `content_hash` store and hash rows, `profiling` summarises columns and
`validation` checks a version against its schema and a reference version.
"""
