"""The agents' desk: a Sanic web application (pages, JSON API, one websocket per open desk).

Every route but the login page and the operators' (`/metrics`, `/health/*`) needs a session;
state-changing requests and websockets must come from the desk's own origin. Every response
carries a Content-Security-Policy and the other security headers, and every error is
answered in JSON on the API (a short plain page elsewhere), never with a traceback
(teranga/agent_desk/guard.py). Background tasks take escalations in, route them, re-queue
unanswered ones and push news to open desks as it happens
(teranga/agent_desk/background.py); they are stopped, and the connections closed, before the
server stops.
"""

from __future__ import annotations

import asyncio
import logging

from sanic import Sanic

from teranga.agent_desk.api import add_api
from teranga.agent_desk.auth import Sessions
from teranga.agent_desk.background import STOP_SECONDS, Background, start_desk
from teranga.agent_desk.context_api import add_context_api
from teranga.agent_desk.desk import Desk
from teranga.agent_desk.guard import add_guard
from teranga.agent_desk.insights_api import add_insights_api
from teranga.agent_desk.live import Connections, add_websocket
from teranga.agent_desk.origins import check_proxy_settings, checked_origins
from teranga.agent_desk.pages import add_pages
from teranga.agent_desk.rasa_api import RasaApi
from teranga.agent_desk.routing import Dispatch, Dispatcher
from teranga.handoff.store import HandoffStore
from teranga.insights.feed import Feed
from teranga.insights.store import open_store
from teranga.observability import metrics
from teranga.observability.endpoints import add_observability
from teranga.observability.health import redis_answers
from teranga.redis_connections import sync_redis
from teranga.settings import Settings

logger = logging.getLogger(__name__)
MAX_SIZE = 64 * 1024


def create_app(desk: Desk, sessions: Sessions, allowed_origins: set[str],
               secure_cookies: bool = False, forwarded_secret: str | None = None,
               cost_per_conversation: float = 0.0) -> Sanic:
    app = Sanic("teranga_desk")  # reads SANIC_* variables: the proxy settings among them
    app.config.REQUEST_MAX_SIZE = MAX_SIZE
    app.config.WEBSOCKET_MAX_SIZE = MAX_SIZE
    check_proxy_settings(app.config, forwarded_secret)
    connections, background = Connections(), Background()
    dispatcher = Dispatcher(Dispatch(desk.store, desk.rasa))

    add_guard(app, desk.store, sessions, checked_origins(allowed_origins))
    add_pages(app, desk.store, sessions, secure_cookies)
    add_api(app, desk, dispatcher)
    add_context_api(app, desk)
    add_insights_api(app, desk, cost_per_conversation)
    add_websocket(app, desk.store, connections)
    add_observability(app, "desk", {"redis": redis_answers(lambda: desk.store.client)},
                      before_scrape=_queue_depth_reader(desk))

    @app.before_server_start
    async def start_background(_app: Sanic, _loop) -> None:
        await start_desk(desk, sessions, connections, dispatcher, background)

    @app.before_server_stop
    async def stop_background(_app: Sanic, _loop) -> None:
        if desk.feed is not None:
            desk.feed.stopping.set()
        await background.stop()
        try:  # Rasa's API, then Redis (the sessions share the store's client)
            await asyncio.wait_for(desk.close(), STOP_SECONDS)
            logger.info("Desk clients closed")
        except asyncio.TimeoutError:
            logger.error("Desk clients not closed after %.0f s: left to the process's end",
                         STOP_SECONDS)

    return app


def _queue_depth_reader(desk: Desk):
    """The agents' queue as Redis holds it now, read when Prometheus scrapes: every desk
    process reports the same truth."""
    metrics.export_desk_metrics()

    async def read() -> None:
        metrics.HANDOFF_QUEUE_DEPTH.set(await desk.store.ownership.waiting())
    return read


def build(settings: Settings) -> Sanic:
    settings.require_redis_url("the desk (it shares Redis with the assistant)")
    store = HandoffStore.from_settings(settings, socket_timeout=5)
    insights = open_store(settings)
    feed = Feed(sync_redis(settings.redis_url, settings, socket_timeout=30), insights)
    desk = Desk(store, RasaApi.from_env(settings.rasa_url), settings.desk_consumer,
                insights, feed)
    return create_app(desk, Sessions(store.client), set(settings.desk_origins),
                      secure_cookies=settings.desk_secure_cookies,
                      forwarded_secret=settings.forwarded_secret,
                      cost_per_conversation=settings.agent_conversation_cost)
