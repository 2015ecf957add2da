"""What every request and response of the desk goes through: the guard (cross-site requests
refused, a session needed but on the public paths), the security headers, and the error
handlers (JSON on the API, a short plain page elsewhere, never a traceback)."""

from __future__ import annotations

import logging
import re

import redis
from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request

from teranga.agent_desk.auth import COOKIE, Sessions
from teranga.agent_desk.desk import DeskError
from teranga.agent_desk.origins import HOST, is_api, needs_origin, own_origin, sent_from
from teranga.agent_desk.rasa_api import RasaUnavailable
from teranga.handoff.store import HandoffStore
from teranga.observability.endpoints import OPERATIONS_PATHS

logger = logging.getLogger(__name__)
# What answers without a session: the login page needs its style sheet too; Prometheus and
# Kubernetes call the operators' routes (never exposed by the reverse proxy).
PUBLIC_PATHS = frozenset({"/login", "/health", "/static/login.css", *OPERATIONS_PATHS})
FOREIGN_ORIGIN = ("refused: this request did not come from the desk's own pages "
                  "(its Origin, or Referer, is missing or another site's)")
STORE_DOWN = "the desk's store is unavailable, try again"
FAILED = "the desk failed on this request (the details are in its log); try again"


def add_guard(app: Sanic, store: HandoffStore, sessions: Sessions,
              allowed_origins: set[str]) -> None:
    def own_origins(request: Request) -> set[str]:
        return {own_origin(request)} | allowed_origins

    @app.on_request
    async def guard(request: Request):
        """Refuse cross-site requests before any handler (or websocket handshake) runs."""
        if needs_origin(request) and sent_from(request) not in own_origins(request):
            logger.warning("Refused %s %s from origin %r (referer %r)", request.method,
                           request.path, request.headers.get("origin"),
                           request.headers.get("referer"))
            return response.json({"error": FOREIGN_ORIGIN}, status=403)
        if request.path in PUBLIC_PATHS:
            return None
        agent_id = await sessions.agent_id(request.cookies.get(COOKIE))
        agent = store.agent(agent_id) if agent_id else None
        if agent is None:
            if is_api(request.path):
                return response.json({"error": "log in first"}, status=401)
            return response.redirect("/login")
        request.ctx.agent = agent
        return None

    @app.on_response
    async def security_headers(request: Request, reply):
        reply.headers.update(_security_headers(request, own_origins(request)))

    @app.exception(DeskError)
    async def desk_error(request: Request, error: DeskError):
        return response.json({"error": error.message}, status=error.status)

    @app.exception(RasaUnavailable)
    async def rasa_unavailable(request: Request, error: RasaUnavailable):
        logger.error("%s", error)
        return response.json({"error": "the assistant's server did not answer; "
                                       "try again in a moment"}, status=503)

    @app.exception(Exception)
    async def any_other_error(request: Request, error: Exception):
        """Sanic's own errors (404, 405, 413, 400...), Redis down, or a bug: a reason, and
        the details in the log only."""
        status, reason = _status_and_reason(request, error)
        headers = getattr(error, "headers", None) or {}  # such as 405's Allow
        if is_api(request.path):
            return response.json({"error": reason}, status=status, headers=headers)
        return response.text(f"{reason}\n", status=status, headers=headers)


def _security_headers(request: Request, origins: set[str]) -> dict[str, str]:
    headers = {"Content-Security-Policy": _content_security_policy(request, origins),
               "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
               "Referrer-Policy": "same-origin"}
    if not request.path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"  # agents' and customers' data
    return headers


def _content_security_policy(request: Request, origins: set[str]) -> str:
    """Scripts, styles and connections from the desk only; its websocket is named as well,
    for browsers whose 'self' does not cover ws:// and wss://."""
    if not re.fullmatch(HOST, request.host, re.IGNORECASE):
        origins = origins - {own_origin(request)}  # an odd Host header: not repeated
    sockets = sorted(f"{scheme}://{origin.split('://', 1)[1]}" for origin in origins
                     for scheme in ("ws", "wss"))
    return "; ".join(["default-src 'none'", "script-src 'self'", "style-src 'self'",
                      "img-src 'self'", f"connect-src 'self' {' '.join(sockets)}".strip(),
                      "form-action 'self'", "base-uri 'none'", "frame-ancestors 'none'"])


def _status_and_reason(request: Request, error: Exception) -> tuple[int, str]:
    if isinstance(error, redis.RedisError):
        logger.error("Redis failed on %s %s: %r", request.method, request.path, error)
        return 503, STORE_DOWN
    status = getattr(error, "status_code", 500)
    if isinstance(error, SanicException) and status < 500:
        return status, str(error)  # Sanic's own message: 404, 405, 413, 400...
    logger.error("Desk request %s %s failed", request.method, request.path, exc_info=error)
    return max(status, 500), FAILED
