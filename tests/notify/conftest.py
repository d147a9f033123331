"""A loopback HTTP receiver that records every request, and a clock tests move by hand."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from core.store.clock import Clock
from core.store.database import Store
from tests.conftest import T0


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    """What the server got, and how it answers: `answers` is consumed first, then 200."""

    url: str
    answers: list[int] = field(default_factory=list)
    hang: threading.Event | None = None
    got: list[Received] = field(default_factory=list)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            data = self.rfile.read(int(self.headers["Content-Length"]))
            if receiver.hang is not None:
                receiver.hang.wait(10)  # a receiver that never answers in time
            status = receiver.answers.pop(0) if receiver.answers else 200
            receiver.got.append(Received(dict(self.headers), data, status))
            try:
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"no")
            except (BrokenPipeError, ConnectionResetError):  # the sender timed out and left
                pass

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    """Start loopback receivers: `receiver(answers=[500, 500])`."""
    servers = []

    def start(answers: list[int] | None = None, hang: bool = False) -> Receiver:
        got = Receiver("", list(answers or []), threading.Event() if hang else None)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(got))
        got.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append((server, got))
        return got

    yield start
    for server, got in servers:
        if got.hang is not None:
            got.hang.set()
        server.shutdown()
        server.server_close()


class HandClock:
    """A clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def hand_clock() -> HandClock:
    return HandClock()


def open_with(db: Path, clock: Clock, config: str) -> Store:
    """The database with `config` as its pitboard.toml."""
    (db.parent / "pitboard.toml").write_text(config, encoding="utf-8")
    return Store.open(db, clock=clock)


def payloads(receiver: Receiver) -> list[dict]:
    return [json.loads(r.body) for r in receiver.got]
