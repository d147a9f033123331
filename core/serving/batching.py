"""Score concurrent requests together (dynamic batching, as model servers such as Triton do).

A scikit-learn pipeline costs about the same for one row as for fifty: nearly all of a
single-row prediction is per-call overhead (input checks, pandas indexing, one call per
transformer). When requests arrive concurrently, the ones that queued up while the
previous batch was being scored are joined into one frame, scored in one call, and the
outputs are split back per request. An idle service answers a lone request at once (no
waiting window); batches only form under load, which is exactly when they are needed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

from core.serving.predict import CheckedInput


class MicroBatcher:
    """Joins queued requests for the same model into one scoring call, up to `max_rows`."""

    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows
        self._queue: list[tuple[Any, CheckedInput, asyncio.Future[dict[str, np.ndarray]]]] = []
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.rows = 0

    async def score(self, live: Any, checked: CheckedInput) -> dict[str, np.ndarray]:
        """The outputs of `live.scorer` for `checked`, computed with whatever else is waiting."""
        loop = asyncio.get_running_loop()
        if self._task is None:
            self._wakeup = asyncio.Event()
            self._task = loop.create_task(self._run())
        future: asyncio.Future[dict[str, np.ndarray]] = loop.create_future()
        self._queue.append((live, checked, future))
        assert self._wakeup is not None
        self._wakeup.set()
        return await future

    async def close(self) -> None:
        """Stop the batching task (after the server has finished its requests)."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        assert self._wakeup is not None
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            await asyncio.sleep(0)  # let requests already read off the sockets join the queue
            while self._queue:
                self._score_batch(self._take())

    def _take(self) -> list[tuple[Any, CheckedInput, asyncio.Future[dict[str, np.ndarray]]]]:
        """The oldest waiting requests that share a model, up to `max_rows` rows (at least one)."""
        live = self._queue[0][0]
        taken, rows, rest = [], 0, []
        for entry in self._queue:
            if entry[0] is live and (not taken or rows + entry[1].n_rows <= self.max_rows):
                taken.append(entry)
                rows += entry[1].n_rows
            else:
                rest.append(entry)
        self._queue = rest
        return taken

    def _score_batch(self, batch: list[tuple[Any, CheckedInput, asyncio.Future[dict[str, np.ndarray]]]]) -> None:
        live = batch[0][0]
        self.batches += 1
        self.rows += sum(entry[1].n_rows for entry in batch)
        if len(batch) == 1:
            _settle(batch[0][2], lambda: live.scorer.score(batch[0][1]))
            return
        joined = CheckedInput(
            {name: np.concatenate([entry[1].columns[name] for entry in batch]) for name in batch[0][1].columns},
            sum(entry[1].n_rows for entry in batch),
        )
        try:
            outputs = live.scorer.score(joined)
        except Exception:  # one odd request must not fail its neighbours: score them one by one
            for _, checked, future in batch:
                _settle(future, lambda checked=checked: live.scorer.score(checked))
            return
        start = 0
        for _, checked, future in batch:
            stop = start + checked.n_rows
            if not future.done():
                future.set_result({name: values[start:stop] for name, values in outputs.items()})
            start = stop


def _settle(future: asyncio.Future[dict[str, np.ndarray]], compute: Any) -> None:
    try:
        result = compute()
    except Exception as exc:
        if not future.done():
            future.set_exception(exc)
        return
    if not future.done():
        future.set_result(result)
