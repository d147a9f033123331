"""A real `pitboard serve` on a loopback port: clients too slow to send a request are dropped,
idle keep-alive connections are closed, and everyone else is served meanwhile."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

from core.registry.versions import move_alias
from core.store.clock import fixed_clock
from core.store.database import Store
from tests.conftest import T0
from tests.registry.conftest import _pipeline_version
from tests.serving.test_server_process import Server

pytestmark = pytest.mark.slow

DRIP = 0.25  # seconds between the slow client's bytes
REQUEST = (b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           b"Content-Length: 2\r\n\r\n{}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """One server for the module (starting one takes seconds); each test opens its own connections."""
    db = tmp_path_factory.mktemp("slow-clients") / "pitboard.db"
    with Store.open(db, clock=fixed_clock(T0)) as store:
        version, _ = _pipeline_version(store, "scoring", seed=1, C=1.0)
        move_alias(store, "scoring", "champion", version, action="set")
    (db.parent / "pitboard.toml").write_text("[serving]\nheader_timeout = 1.0\nkeep_alive_timeout = 0.5\n")
    running = Server(db, "scoring@champion")
    yield running
    assert running.stop() == 0


def connect(server: Server) -> socket.socket:
    address = urlsplit(server.url)
    return socket.create_connection((address.hostname, address.port), timeout=10)


def read_until_closed(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    return received


def test_a_client_sending_a_byte_at_a_time_is_dropped_while_another_is_served(server: Server) -> None:
    slow = connect(server)
    slow.settimeout(DRIP)  # each recv waits one drip interval for the server's answer
    opened, sent, answer, served_meanwhile = time.monotonic(), 0, b"", 0
    with slow, httpx.Client(base_url=server.url) as other:
        for byte in REQUEST:
            try:
                slow.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += 1
            assert other.get("/health").status_code == 200
            served_meanwhile += 1
            try:
                answer = slow.recv(4096)
            except TimeoutError:
                continue
            break
        dropped_after = time.monotonic() - opened
        slow.settimeout(10)
        answer += read_until_closed(slow)
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n") and answer.endswith(b"request headers too slow\r\n")
    assert 1.0 <= dropped_after < 4.0
    assert 2 <= sent < len(REQUEST) and served_meanwhile == sent


def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(server: Server) -> None:
    with connect(server) as idle:
        opened = time.monotonic()
        assert read_until_closed(idle).startswith(b"HTTP/1.1 408")
        assert 1.0 <= time.monotonic() - opened < 4.0


def test_an_idle_keep_alive_connection_is_closed_and_a_prompt_one_served(server: Server) -> None:
    with connect(server) as client:
        client.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = client.recv(4096)
        answered = time.monotonic()
        whole = first + read_until_closed(client)  # the answer, then the server closes the idle connection
        assert whole.startswith(b"HTTP/1.1 200 OK") and whole.endswith(b'"deployment":%d}' % server.deployment)
        assert 0.5 <= time.monotonic() - answered < 3.0
