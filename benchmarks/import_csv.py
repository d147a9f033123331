"""Dataset import against bare `pandas.read_csv`: 1,000,000 rows x 20 columns.

    .venv/bin/python benchmarks/import_csv.py [--rows 1000000] [--runs 3] [--rebuild]

Writes once (cached in benchmarks/.data/) a seeded CSV of 20 columns: an integer id, 10
floats (1% missing in four of them), 4 integers, 4 categorical text columns (3 to 50
categories) and an ISO date. Then, on that same file:

- reference: `pandas.read_csv(path)` alone, the best of `--runs` (the page cache is warm;
  pandas 3 reads a large file with one thread per core);
- import: `core.data.datasets.add_dataset` into a fresh database, then closing it, as the CLI
  does: read and check the file; compact every column and hash it (threads); encode the
  chunks and profile the columns (threads) while the chunks are written; commit. The
  median of `--runs` imports, each into its own new database;
- re-import: the same file again, which only reads, compacts and hashes, and writes nothing.

It prints the ratio import / read_csv (goal: at most 3) and where the time goes: each
step timed on its own (read_tabular, compaction with the hash, profiles, chunk
encoding), then the last three together in the import's threads; the rest of the import
is writing the chunks into SQLite and the commit.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from concurrent.futures import ThreadPoolExecutor  # noqa: E402

from core.data.chunks import chunk_count, compact_column, compact_table, encode_chunk  # noqa: E402
from core.data.content_hash import column_digest  # noqa: E402
from core.data.datasets import IMPORT_THREADS, _compact_and_hash, _start_writing, add_dataset  # noqa: E402
from core.data.profiling import profile_column  # noqa: E402
from core.data.tabular import read_tabular  # noqa: E402
from core.store.clock import fixed_clock  # noqa: E402
from core.store.database import Store  # noqa: E402

DATA = ROOT / "benchmarks" / ".data"
GOAL = 3.0


def build(path: Path, rows: int) -> None:
    """The seeded benchmark file."""
    rng = np.random.default_rng(7)
    columns: dict[str, object] = {"row_id": np.arange(1, rows + 1)}
    for i in range(10):
        values = rng.normal(100 * i, 10 + i, rows).round(3)
        if i % 3 == 0:
            values[rng.random(rows) < 0.01] = np.nan
        columns[f"x{i}"] = values
    for i in range(4):
        columns[f"k{i}"] = rng.integers(0, 10 ** (i + 1), rows)
    for i, size in enumerate((3, 8, 20, 50)):
        labels = np.array([f"cat_{j}" for j in range(size)])
        columns[f"c{i}"] = labels[rng.integers(0, size, rows)]
    columns["day"] = np.datetime_as_string(np.datetime64("2024-01-01") + rng.integers(0, 730, rows).astype("timedelta64[D]"))
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(columns).to_csv(path, index=False)


def timed(action):
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def in_threads(frame: pd.DataFrame) -> None:
    """Compaction, hash, chunks and profiles, in the threads the import runs them in."""
    with ThreadPoolExecutor(max_workers=IMPORT_THREADS) as pool:
        table, _ = _compact_and_hash(pool, frame)
        work = _start_writing(pool, table, None, None)
        for future in [*work.chunks, *work.profiles]:
            future.result()


def fresh_import(folder: Path, path: Path) -> float:
    """Seconds to import into a new database and close it, as the CLI runs it.

    Closing is part of it: SQLite checkpoints the write-ahead log when the last connection
    closes, so a commit that left its pages in the log has not finished its work until then.
    """
    store = Store.open(folder / "bench.db", clock=fixed_clock(0.0))
    start = time.perf_counter()
    try:
        dv, created = add_dataset(store, "bench", path)
    finally:
        store.close()
    seconds = time.perf_counter() - start
    assert created and dv.n_rows > 0
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="imports to take the median of")
    parser.add_argument("--rebuild", action="store_true", help="write the CSV again")
    args = parser.parse_args()
    path = DATA / f"import_{args.rows}x20.csv"
    if args.rebuild or not path.exists():
        print(f"writing {path} ...", flush=True)
        build(path, args.rows)
    print(f"file: {path.name}, {path.stat().st_size / 2**20:.0f} MiB, {args.rows:,} rows x 20 columns")

    reference = min(timed(lambda: pd.read_csv(path))[0] for _ in range(args.runs))
    imports = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            imports.append(fresh_import(Path(folder), path))
            if run == 0:
                with Store.open(Path(folder) / "bench.db", clock=fixed_clock(0.0)) as store:
                    again, (_, created_again) = timed(lambda: add_dataset(store, "bench", path))
                assert not created_again
    total = statistics.median(imports)

    read, frame = timed(lambda: read_tabular(path))
    compacting, columns = timed(lambda: [compact_column(str(name), frame[name]) for name in frame.columns])
    hashing, _ = timed(lambda: [column_digest(field, array) for field, array in columns])
    table = compact_table(columns)
    profiling, _ = timed(lambda: [profile_column(field, array) for field, array in columns])
    encoding, chunks = timed(lambda: [encode_chunk(table, i) for i in range(chunk_count(table.num_rows))])
    together, _ = timed(lambda: in_threads(frame))
    write = total - read - together
    stored = sum(chunk.data.size for chunk in chunks) / 2**20

    spread = f"median of {len(imports)}: {', '.join(f'{t:.2f}' for t in sorted(imports))}"
    print(f"pandas.read_csv        {reference:7.2f} s   (best of {args.runs})")
    print(f"pitboard data add      {total:7.2f} s   ratio {total / reference:.2f}x (goal <= {GOAL:.0f}x; {spread})")
    print(f"  read + checks        {read:7.2f} s")
    print(f"  compact columns      {compacting:7.2f} s   alone")
    print(f"  content sha256       {hashing:7.2f} s   alone, of the compact columns")
    print(f"  profiles             {profiling:7.2f} s   alone")
    print(f"  chunk encoding       {encoding:7.2f} s   alone ({len(chunks)} chunks, {stored:.0f} MiB)")
    print(f"  the four, threaded   {together:7.2f} s   ({IMPORT_THREADS} threads)")
    print(f"  write + commit       {write:7.2f} s   (the rest)")
    print(f"re-add (unchanged)     {again:7.2f} s   ratio {again / reference:.2f}x")


if __name__ == "__main__":
    main()
