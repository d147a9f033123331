"""The two-thread split: where each half runs, and that it never waits on itself."""

from __future__ import annotations

import os
import select
import signal
import threading

import pytest

from core.kernels import _parallel
from core.kernels._parallel import THRESHOLD, halves, serial

two_cores = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="the split needs two cores")


def where() -> int:
    return threading.get_ident()


def test_small_inputs_run_both_halves_on_the_calling_thread():
    assert halves(THRESHOLD - 1, where, where) == (where(), where())


@two_cores
def test_large_inputs_run_the_second_half_on_the_helper_thread():
    first, second = halves(THRESHOLD, where, where)
    assert first == where()
    assert second != where()


@two_cores
def test_serial_keeps_large_inputs_on_the_calling_thread_and_restores_afterwards():
    with serial():
        assert halves(THRESHOLD, where, where) == (where(), where())
    assert halves(THRESHOLD, where, where)[1] != where()


@two_cores
def test_a_split_inside_the_helper_thread_runs_there_instead_of_waiting_on_itself():
    def nested() -> tuple[int, int, int]:
        inner = halves(THRESHOLD, where, where)
        return where(), *inner

    _, (helper, inner_first, inner_second) = halves(THRESHOLD, where, nested)
    assert helper != where()
    assert inner_first == inner_second == helper


@two_cores
def test_an_error_in_the_first_half_still_waits_for_the_second():
    finished = []

    def fail() -> None:
        raise RuntimeError("first half failed")

    with pytest.raises(RuntimeError, match="first half failed"):
        halves(THRESHOLD, fail, lambda: finished.append(True))
    assert finished == [True]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@two_cores
def test_a_forked_child_gets_a_helper_thread_of_its_own():
    halves(THRESHOLD, where, where)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a split must complete, not wait for the parent's thread
        try:
            first, second = halves(THRESHOLD, where, where)
            os.write(write, b"ok" if first != second else b"same thread")
        finally:
            os._exit(0)
    os.close(write)
    answered, _, _ = select.select([read], [], [], 60)
    if not answered:  # the child is stuck waiting on a helper thread it does not have
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert answered and os.read(read, 100) == b"ok"
    assert _parallel._pool is not None
