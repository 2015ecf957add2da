"""The operators' routes (teranga/observability/endpoints.py) on a real Sanic server."""

from __future__ import annotations

import uuid

import pytest
import requests
from prometheus_client import REGISTRY
from sanic import Sanic

from teranga.observability import metrics
from teranga.observability.endpoints import add_observability
from teranga.observability.health import is_true
from tests.running_app import RunningApp

pytestmark = pytest.mark.usefixtures("several_apps")


def test_the_routes_answer_without_a_token_and_the_desk_metrics_only_where_exported():
    state = {"ready": True}
    app = Sanic(f"observed_{uuid.uuid4().hex[:8]}")
    add_observability(app, "test", {"model": is_true(lambda: state["ready"])})
    with RunningApp(app) as running:
        scraped = requests.get(f"{running.url}/metrics", timeout=10)
        assert scraped.status_code == 200
        assert "# TYPE teranga_messages_received_total counter" in scraped.text
        assert "process_cpu_seconds_total" in scraped.text
        assert requests.get(f"{running.url}/health/ready", timeout=10).status_code == 200
        state["ready"] = False
        assert requests.get(f"{running.url}/health/ready", timeout=10).status_code == 503
        assert requests.get(f"{running.url}/health/live", timeout=10).json() == \
            {"status": "ok"}
    names = {family.name for family in REGISTRY.collect()}
    if "teranga_handoff_queue_depth" not in names:  # another test may have exported them
        metrics.export_desk_metrics()
        names = {family.name for family in REGISTRY.collect()}
    metrics.export_desk_metrics()  # a second time changes nothing
    assert {"teranga_handoff_queue_depth", "teranga_handoff_wait_seconds"} <= names
