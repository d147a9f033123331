"""A request the service fails on: 500 with a request id for the client, the traceback in the log.

Whatever a client sends, it must never see a Python traceback, and whoever runs the service
must be able to find the one behind a client's complaint. Every exception escaping a request
is therefore logged once, with its traceback, under a fresh request id
(`<deployment>-e<12 hex digits>`), and the client gets `{"detail": ..., "request_id": ...}`
with status 500 when no response had started yet.

Two layers take part: FastAPI's routes answer through Starlette's error middleware, which
calls `route_error` (registered as the app's handler for `Exception`) and then re-raises
the exception; `InternalErrors`, around the whole app and the bare /predict endpoint, logs
and answers whatever reaches it, and recognises an exception the handler already logged,
so nothing is logged twice and nothing more reaches uvicorn.
"""

from __future__ import annotations

import sys
import traceback
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse

_LOGGED = "_pitboard_request_id"
DETAIL = "internal error; the service logged it under this request id"


def log_failure(exc: BaseException, prefix: str, method: str, path: str) -> str:
    """Write `exc`'s traceback to the service's log (stderr) under a new request id; return the id."""
    request_id = f"{prefix}-e{uuid.uuid4().hex[:12]}"
    text = "".join(traceback.format_exception(exc))
    print(f"serve: internal error, request {request_id}: {method} {path}\n{text}", end="", file=sys.stderr, flush=True)
    setattr(exc, _LOGGED, request_id)
    return request_id


def body(request_id: str) -> dict[str, str]:
    return {"detail": DETAIL, "request_id": request_id}


def route_error(prefix: str) -> Callable[[Request, Exception], Any]:
    """The FastAPI handler for `Exception`: log, then answer 500 with the request id."""

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        request_id = log_failure(exc, prefix, request.method, request.url.path)
        return JSONResponse(body(request_id), status_code=500)

    return handler


class InternalErrors:
    """ASGI middleware: no exception leaves a request unlogged or unanswered (see the module docstring)."""

    def __init__(self, app: Any, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            request_id = getattr(exc, _LOGGED, None) or log_failure(exc, self.prefix, scope.get("method", ""), scope.get("path", ""))
            if not started:
                content = orjson.dumps(body(request_id))
                await send({"type": "http.response.start", "status": 500, "headers": [
                    (b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]})
                await send({"type": "http.response.body", "body": content})
