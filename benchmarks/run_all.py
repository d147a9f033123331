"""Run every benchmark in turn and print what each one prints (the `make bench` target).

    .venv/bin/python benchmarks/run_all.py                  # small sizes: a few minutes
    .venv/bin/python benchmarks/run_all.py --full           # each script's own defaults (1,000,000 rows)
    .venv/bin/python benchmarks/run_all.py --only kernels tui_startup

By default each script runs at its smallest sensible size, so the whole set is a quick
check that every comparison still runs and roughly where the ratios stand; `--full`
reproduces the figures quoted in the README. Each script measures its reference library
in the same run and prints its own ratios; this runner only sequences them (one at a
time: on 2 cores, two benchmarks at once would measure each other) and reports which
failed, exiting non-zero if any did.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# script -> the arguments of its small run (the full run passes none: the script's defaults)
QUICK: dict[str, list[str]] = {
    "import_csv": ["--rows", "100000"],
    "kernels": ["--rows", "100000", "--skip-evidently-1m"],
    "log_metrics": ["--sizes", "1000,10000"],
    "serving_load": ["--requests", "2000", "--seconds", "5"],
    "monitor_ingest": ["--rows", "100000"],
    "multivariate": ["--rows", "100000"],
    "tui_startup": ["--rows", "100000", "--runs", "3"],
    "tui_responsiveness": ["--rounds", "3", "--seconds", "5"],
    "first_run": ["--cache", "fresh"],
    "explain": ["--train-rows", "2000", "--singles", "50", "--batches", "1"],
}


def command(name: str, full: bool) -> list[str]:
    """How to run one benchmark: this interpreter, the script, and its size arguments."""
    return [sys.executable, str(HERE / f"{name}.py"), *([] if full else QUICK[name])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="run each benchmark at its default (full) size")
    parser.add_argument("--only", nargs="+", choices=sorted(QUICK), metavar="NAME",
                        help=f"run only these benchmarks ({', '.join(QUICK)})")
    args = parser.parse_args(argv)
    failed = []
    for name in args.only or list(QUICK):
        argv_line = command(name, args.full)
        print(f"\n=== {name}: {' '.join(argv_line[1:])}", flush=True)
        started = time.monotonic()
        code = subprocess.run(argv_line, cwd=HERE.parent).returncode
        print(f"=== {name}: {'ok' if code == 0 else f'FAILED (exit {code})'} in {time.monotonic() - started:.0f} s", flush=True)
        if code != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
