"""`/metrics`, `/health/live` and `/health/ready` on a Teranga server's Sanic app (the Rasa
server, the action server, the desk). They need no token: Prometheus and Kubernetes call
them on the servers' own addresses; the reverse proxy never exposes them
(deploy/nginx/teranga.conf)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sanic import Sanic, response

from teranga.observability.health import Check, readiness
from teranga.observability.logs import use_log_format
from teranga.settings import Settings

OPERATIONS_PATHS = ("/metrics", "/health/live", "/health/ready")

Refresh = Callable[[], Awaitable[None]]  # brings a metric read at scrape time up to date


def add_observability(app: Sanic, process: str, checks: Mapping[str, Check],
                      before_scrape: Refresh | None = None) -> None:
    """The three routes, and the log format applied again to the handlers installed by now
    (Rasa's, rasa_sdk's) and once Sanic's are in place."""
    use_log_format(Settings.from_env().log_format, process)

    @app.get("/metrics", name="teranga_metrics")
    async def metrics(_request):
        if before_scrape is not None:
            await before_scrape()
        return response.raw(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)

    @app.get("/health/live", name="teranga_live")
    async def live(_request):
        return response.json({"status": "ok"})

    @app.get("/health/ready", name="teranga_ready")
    async def ready(_request):
        status, body = await readiness(checks)
        return response.json(body, status=status)

    @app.before_server_start
    async def log_format(*_args) -> None:
        use_log_format(Settings.from_env().log_format, process)
