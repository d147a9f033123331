"""Connections that never finish a request are closed: slow clients cannot hold the server.

uvicorn times out an idle keep-alive connection (`timeout_keep_alive`, from `[serving]
keep_alive_timeout`), but it cancels that timer on the first byte received and has no
timer at all before a connection's first request. A client that opens connections and
sends its headers a byte a second ("slowloris") therefore holds each connection, its
buffers and a file descriptor forever, and enough of them exhaust the server.

`with_header_timeout` gives uvicorn's httptools protocol (the one pitboard runs on; httptools
is a dependency on every platform) a deadline per request: from the connection's opening,
or from the first byte of each later request, its headers must be complete within
`[serving] header_timeout` seconds, else the client gets 408 and the connection is closed.
Bodies are not covered: the body limit bounds their size, and a request whose headers
arrived is in the app's hands.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

TIMEOUT_ANSWER = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
                  b"content-length: 26\r\nconnection: close\r\n\r\nrequest headers too slow\r\n")


def with_header_timeout(seconds: float) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol with a `seconds` deadline on every request's headers."""

    class HeaderDeadline(HttpToolsProtocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._deadline is None:
                self._deadline = self.loop.call_later(seconds, self._too_slow)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self) -> None:
            self._deadline = None
            if not self.transport.is_closing():
                self.transport.write(TIMEOUT_ANSWER)
                self.transport.close()

    return HeaderDeadline
