"""Where pitboard reads the time, so tests and demo snapshots can pin it.

Every timestamp in the database is a float of UTC seconds since the epoch. The clock is
injected into `Store`; the `PITBOARD_NOW` environment variable (epoch seconds or an ISO
8601 time) freezes it for whole processes, which keeps demo databases and screen
snapshots byte-for-byte reproducible.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from datetime import datetime, timezone

from core.store.errors import PitboardError

Clock = Callable[[], float]

ENV_NOW = "PITBOARD_NOW"


def system_clock() -> float:
    """The real time."""
    return time.time()


def fixed_clock(at: float) -> Clock:
    """A clock that always answers `at`."""
    return lambda: at


def parse_time(text: str) -> float:
    """Epoch seconds from a number or an ISO 8601 string (naive means UTC)."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"not a time: {text!r} (use epoch seconds or ISO 8601)") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def default_clock() -> Clock:
    """The system clock, unless `PITBOARD_NOW` pins the time (a PitboardError if it is no time)."""
    pinned = os.environ.get(ENV_NOW)
    if not pinned:
        return system_clock
    try:
        at = parse_time(pinned)
    except (ValueError, OverflowError):
        at = math.nan
    if not math.isfinite(at):
        raise PitboardError(f"${ENV_NOW}={pinned!r}: not a time; use epoch seconds or ISO 8601, or unset it")
    return fixed_clock(at)


def iso(ts: float | None) -> str:
    """A timestamp for people: `2026-11-23 09:14:05` in UTC, or an empty string."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
