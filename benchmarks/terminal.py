"""A program in a pseudo-terminal, for the benchmarks that time what a person would see."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time
from pathlib import Path


def spawn_in_pty(argv: list[str], *, rows: int, columns: int, cwd: Path,
                 env: dict[str, str]) -> tuple[int, subprocess.Popen[bytes]]:
    """Start `argv` in its own session on a new pty of rows x columns; returns (leader fd, process)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    process = subprocess.Popen(argv, stdin=follower, stdout=follower, stderr=follower, cwd=cwd, env=env,
                               start_new_session=True)
    os.close(follower)
    return leader, process


def quit_and_drain(leader: int, process: subprocess.Popen[bytes], key: bytes, seconds: float = 20) -> None:
    """Type `key`, then read what the program still writes until it exits (a full pty would stall it)."""
    os.write(leader, key)
    deadline = time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < deadline:
        if select.select([leader], [], [], 0.1)[0]:
            try:
                os.read(leader, 65536)
            except OSError:
                break
