"""Run the two halves of one large kernel call on two cores at once.

Several kernels split their input in two (two halves of a merge walk, two halves of an
array to count or sort) and combine the halves' results. Above `THRESHOLD` elements the
second half runs on one shared helper thread while the caller runs the first: numba
kernels (`nogil=True`) and numpy's sort release the GIL, so the halves overlap. Below it
both run in the caller: a monitoring window of a few thousand rows pays no hand-off.

A plain thread is used, not numba's `parallel=True`: its workqueue layer is not
thread-safe (and `core.data.drift.drift_report` already calls kernels from a thread pool), GNU OpenMP is
not fork-safe, and on these VMs OpenMP adds 8-16 ms per parallel call unless
OMP_WAIT_POLICY=PASSIVE. `serial()` turns the split off on a thread whose caller already
keeps every core busy (the column workers of `core.data.drift.drift_report`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

THRESHOLD = 200_000
"""Elements below which both halves run on the calling thread."""

First = TypeVar("First")
Second = TypeVar("Second")

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_local = threading.local()


def halves(size: int, first: Callable[[], First], second: Callable[[], Second]) -> tuple[First, Second]:
    """(first(), second()), the two at once on two threads when `size` is large enough."""
    pool = _helper() if size >= THRESHOLD and not getattr(_local, "serial", False) else None
    if pool is None:
        return first(), second()
    future = pool.submit(second)
    try:
        result = first()
    finally:
        other = future.result()
    return result, other


@contextmanager
def serial() -> Iterator[None]:
    """Within this block, on this thread, `halves` runs both halves itself."""
    before = getattr(_local, "serial", False)
    _local.serial = True
    try:
        yield
    finally:
        _local.serial = before


def _helper() -> ThreadPoolExecutor | None:
    """The one helper thread (created on first use), or None on a single-core machine."""
    global _pool
    if _pool is None:
        if len(os.sched_getaffinity(0)) < 2:
            return None
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pitboard-kernel", initializer=_mark_serial)
    return _pool


def _mark_serial() -> None:
    """The helper thread never splits again: it would wait on itself."""
    _local.serial = True


def _forget_pool_in_child() -> None:
    """A forked child has no helper thread: let it start its own instead of waiting forever."""
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_pool_in_child)
