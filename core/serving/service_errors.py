"""Prediction requests the service answered with an error, counted for the error-rate alert.

What counts: every `POST /predict` answered with a status of 400 or more — invalid input
(422, including malformed JSON), a body over the limit (413), and any 5xx (an exception
escaping the endpoint, which the server answers with 500). What does not:

- **401 (missing or wrong bearer token)** is not counted at all. It says nothing about
  the model or its input: a scanner knocking on the port, or a client with an expired
  token, would otherwise page the model's owner about a model that is fine.
- `/feedback`, `/metadata` and `/health`: the error rate is the share of *prediction*
  requests that failed, next to the answered ones the prediction log already holds.

How they reach the database: the service stamps each error (model version live at the
time, status, time, and the seq the next prediction will get) and hands it to the
prediction log's writer thread, which commits the errors of one flush as ONE
`request_errors` row in the same transaction as that flush's predictions. No request
writes anything itself, and a crash loses at most the errors of one log interval, as it
does predictions (see `core.serving.predictlog`). Errors arriving while the service shuts down,
after the log's last flush, cannot be written and are dropped.

The seq places an error among the predictions: an error stamped with seq `s` happened
after prediction `s - 1` and before prediction `s`, which is how `core.monitoring.ingest` puts errors
into row-count windows; time windows use the error's time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

PREDICT_PATH = "/predict"
UNAUTHORISED = 401

# One error as stored in a flush's blob: fixed-width little-endian records.
ERROR_DTYPE = np.dtype([("version", "<i8"), ("status", "<i2"), ("ts", "<f8"), ("seq", "<i8")])

INSERT_SQL = (
    "INSERT INTO request_errors (deployment_id, n_client, n_server, ts_min, ts_max, seq_min, seq_max, data)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def counted(status: int) -> bool:
    """Whether a /predict answer with this status is an error of the service (not 401)."""
    return status >= 400 and status != UNAUTHORISED


def flush_row(deployment_id: int, errors: Sequence[tuple[int, int, float, int]]) -> tuple[Any, ...]:
    """The `request_errors` row of one flush: counts by status class and every error's record.

    `errors` are (version id, status, time, seq) in arrival order.
    """
    records = np.array(list(errors), dtype=ERROR_DTYPE)
    server = int((records["status"] >= 500).sum())
    return (
        deployment_id, len(records) - server, server, float(records["ts"].min()), float(records["ts"].max()),
        int(records["seq"].min()), int(records["seq"].max()), records.tobytes(),
    )


def decode(data: bytes) -> np.ndarray:
    """A flush's error records (fields version, status, ts, seq)."""
    return np.frombuffer(data, dtype=ERROR_DTYPE)


class CountErrors:
    """ASGI middleware: report the status of every `POST /predict` answered with an error.

    Wrapped around the body limit, it sees that 413 too; an exception escaping the app is
    reported as the 500 the server then sends.
    """

    def __init__(self, app: Any, record: Callable[[int], None]) -> None:
        self.app = app
        self.record = record

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") != PREDICT_PATH:
            await self.app(scope, receive, send)
            return
        status: int | None = None

        async def watched(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            if status is None:
                status = 500
            raise
        finally:
            if status is not None and counted(status):
                self.record(status)
