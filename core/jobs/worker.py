"""The detached worker process: `python -m core.jobs.worker DATABASE JOB_ID`.

Started by `core.jobs.runner.start_job` in its own session; runs one job and exits.
"""

from __future__ import annotations

import sys

from core.jobs.runner import run_job
from core.store.database import Store


def main(argv: list[str]) -> int:
    """Run the job; the exit code says whether it finished."""
    if len(argv) != 2 or not argv[1].isdigit():
        print("usage: python -m core.jobs.worker DATABASE JOB_ID", file=sys.stderr)
        return 2
    with Store.open(argv[0]) as store:
        return 0 if run_job(store, int(argv[1])) == "finished" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
