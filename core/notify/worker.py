"""The delivery worker inside long-lived processes (`serve`, the app).

A thread with its own connection that flushes the outbox every `poll_seconds` until
stopped. Several processes may run one against the same database: claims keep each
delivery to one of them. The targets are read, and checked, when the worker is built,
so a missing secret is reported when the process starts.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from core.notify.delivery import flush
from core.notify.targets import NotifySettings, load
from core.store.clock import Clock
from core.store.database import Store


class DeliveryWorker:
    """Start with `start()`, stop with `stop()`; does nothing when no target is configured."""

    def __init__(self, db_path: Path, *, clock: Clock | None = None) -> None:
        self.db_path = Path(db_path)
        self.clock = clock
        with Store.open(self.db_path, clock=clock) as store:
            self.settings: NotifySettings = load(store)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self.settings.targets or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="notify-delivery", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        store = Store.open(self.db_path, clock=self.clock)
        try:
            while True:
                try:
                    flush(store, self.settings)
                except Exception as exc:  # a locked or damaged database: say so and try at the next poll
                    print(f"notify: delivery failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                if self._stop.wait(self.settings.poll_seconds):
                    return
        finally:
            store.close()
