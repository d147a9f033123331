"""The serving tests share the registry's trained versions and its served model, and the
real app on it in-process, answering 500 for its own faults as it does in production."""

import pytest
from fastapi.testclient import TestClient

from core.serving.service import Service, create_app
from tests.conftest import T0
from tests.registry.conftest import reg, served, trained, trained_template  # noqa: F401 (fixtures)


@pytest.fixture
def client(served, monkeypatch: pytest.MonkeyPatch):  # noqa: F811 (the fixture above)
    """(TestClient, Service) on scoring@champion; tests/serving/test_serving.py has its own, strict one."""
    monkeypatch.setenv("PITBOARD_NOW", str(T0))
    service = Service(served["db"], "scoring@champion")
    with TestClient(create_app(service), raise_server_exceptions=False) as http:
        yield http, service
