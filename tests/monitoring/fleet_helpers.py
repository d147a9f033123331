"""Shared pieces of the fleet tests: a bundle of the served champion, in-process replicas
logging to segments, and a real S3 API on loopback (moto's server mode)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from core.serving.service import DEFAULTS
from tests.conftest import T0
from tests.monitoring.conftest import MODEL, Served

S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def export(served: Served, out: Path) -> Path:
    """The champion exported as a bundle folder, as `pitboard model package` writes it."""
    from core.registry.packaging import export_bundle

    with served.open() as store:
        export_bundle(store, f"{MODEL}@champion", out)
    return out


class Replica:
    """A bundle served in-process (the real ASGI app), logging to segments at `url`, on a hand-moved clock."""

    def __init__(self, bundle: Path, url: str, *, interval: float = 0.02) -> None:
        from fastapi.testclient import TestClient

        from core.serving.service import Service, create_app

        self.now = T0
        self.service = Service.from_bundle(bundle, {**DEFAULTS, "log_interval": interval}, log_to=url,
                                           clock=lambda: self.now)
        self.client = TestClient(create_app(self.service))
        self.client.__enter__()
        self.names = [entry["name"] for entry in self.service.live.version.info["signature"]]

    def predict(self, frame, at: float, batch: int = 50) -> list[str]:
        from core.serving.predict import frame_columns

        self.now = at
        ids = []
        for first in range(0, len(frame), batch):
            response = self.client.post("/predict", json={"columns": frame_columns(frame[self.names].iloc[first:first + batch])})
            assert response.status_code == 200, response.text
            ids += [p["id"] for p in response.json()["predictions"]]
        return ids

    def feedback(self, ids: list[str], labels) -> dict:
        response = self.client.post("/feedback", json={"labels": [{"id": i, "label": int(v)} for i, v in zip(ids, labels)]})
        assert response.status_code == 200, response.text
        return response.json()

    def close(self) -> None:
        """Graceful stop: the log's last flush is written."""
        self.client.__exit__(None, None, None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def s3_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A real S3 API (moto's threaded server) on a free loopback port; its endpoint URL.

    Credentials and the endpoint go in the environment, where s3fs (botocore) reads them,
    as a deployment would set them: never on a command line.
    """
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    httpx.post(f"{endpoint}/moto-api/reset").raise_for_status()  # moto keeps buckets in the process: start empty
    for key, value in {**S3_ENV, "AWS_ENDPOINT_URL": endpoint}.items():
        monkeypatch.setenv(key, value)
    import fsspec

    fsspec.config.conf.pop("s3", None)
    try:
        yield endpoint
    finally:
        server.stop()
