"""What the integration tests share: a client of the real Redis test database, and a key
prefix of each test's own, removed afterwards."""

from __future__ import annotations

import uuid

import pytest
import redis
from sanic import Sanic

from tests.blocking import Sessions


@pytest.fixture
def client(real_redis_url) -> redis.Redis:
    return redis.Redis.from_url(real_redis_url)


@pytest.fixture
def prefix(client):
    # letters and digits only: Rasa's RedisTrackerStore ignores any other key prefix
    prefix = f"test{uuid.uuid4().hex[:8]}"
    yield prefix
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def sessions(client, prefix) -> Sessions:
    """Desk sessions and login counts under the test's own prefix."""
    return Sessions(client, prefix)


@pytest.fixture
def several_apps(monkeypatch):
    """Sanic refuses a second app of the same name, outside its test mode: the tests that
    build an app each (`pytestmark = pytest.mark.usefixtures("several_apps")`)."""
    monkeypatch.setattr(Sanic, "test_mode", True)
