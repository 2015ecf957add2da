"""Who is asking, and from where: the desk's own origin, the page a request came from, the
agent's address (behind a proxy, as the proxy says), and Sanic's proxy settings checked."""

from __future__ import annotations

import logging
from functools import cache
from urllib.parse import urlsplit

from sanic.config import Config
from sanic.request import Request

from teranga import web_origins
from teranga.observability.endpoints import OPERATIONS_PATHS
from teranga.web_origins import HOST as HOST  # the guard checks the Host header with it

logger = logging.getLogger(__name__)
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_api(path: str) -> bool:
    """Paths that a script reads: their answers, errors included, are JSON."""
    return path.startswith("/api/") or path in ("/ws", "/health", *OPERATIONS_PATHS)


def needs_origin(request: Request) -> bool:
    return request.method in STATE_CHANGING or \
        request.headers.get("upgrade", "").lower() == "websocket"


def checked_origins(origins) -> set[str]:
    """TERANGA_DESK_ORIGINS, each as browsers write an origin (they also go into the CSP)."""
    return web_origins.checked_origins(origins, "TERANGA_DESK_ORIGINS")


def own_origin(request: Request) -> str:
    """The desk's origin as the browser sees it (behind a proxy, as the proxy says, when
    Sanic is told about the proxy)."""
    scheme = "https" if request.scheme in ("https", "wss") else "http"  # ws:// too
    return f"{scheme}://{request.host}".lower()


def sent_from(request: Request) -> str:
    """The origin of the page that sent the request: its Origin or, when a privacy tool
    removed that, its Referer's (browsers send one of them with every post)."""
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.lower()
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.scheme not in ("http", "https") or not referer.netloc:
        return ""
    return f"{referer.scheme}://{referer.netloc.rsplit('@', 1)[-1]}".lower()


def client_address(request: Request) -> str:
    """The agent's address as the proxy tells it, when Sanic knows the proxy (its
    PROXIES_COUNT, REAL_IP_HEADER or FORWARDED_SECRET); else the socket's. Without those
    settings Sanic ignores X-Forwarded-For, which anyone can send."""
    if not request.remote_addr and "x-forwarded-for" in request.headers:
        _warn_proxy_not_configured()
    return request.remote_addr or request.ip


@cache
def _warn_proxy_not_configured() -> None:
    logger.warning("Requests come with X-Forwarded-For, but Sanic's proxy settings give no "
                   "client address: login throttling counts the proxy's address for everybody."
                   " Behind one reverse proxy, set SANIC_PROXIES_COUNT=1.")


def check_proxy_settings(config: Config, forwarded_secret: str | None) -> None:
    """Sanic turns SANIC_* values that look like numbers or booleans into them: a wrong count
    would fail every request, and a secret must stay the text that the proxy sends
    (`forwarded_secret`, SANIC_FORWARDED_SECRET as it was written)."""
    count = config.PROXIES_COUNT
    if count is not None and (not isinstance(count, int) or count < 0):
        raise ValueError(f"SANIC_PROXIES_COUNT must be the number of proxies in front of the "
                         f"desk (1 behind one nginx), not {count!r}")
    if config.FORWARDED_SECRET is not None:
        config.FORWARDED_SECRET = forwarded_secret or str(config.FORWARDED_SECRET)
    logger.info("Agents' addresses come from %s", "the proxy's headers" if
                count or config.REAL_IP_HEADER or config.FORWARDED_SECRET else "the socket")
