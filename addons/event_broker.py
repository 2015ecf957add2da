"""`RedisStreamBroker`, the Rasa event broker named in endpoints.yml: the tracker store hands
it each new event, and it publishes the desk's view of it (teranga/agent_desk/events.py), so
that customers' messages reach the desk as they arrive, including while an agent owns the
conversation and the bot is paused, without touching the dialogue code."""

from __future__ import annotations

import json
import logging
from typing import Any

import redis
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

from teranga.agent_desk.events import EVENTS_STREAM, STREAM_LENGTH, desk_view
from teranga.redis_connections import sync_redis

logger = logging.getLogger(__name__)


class RedisStreamBroker(EventBroker):
    def __init__(self, url: str, stream: str = EVENTS_STREAM) -> None:
        self.client = sync_redis(url, socket_timeout=2, socket_connect_timeout=2)
        self.stream = stream

    @classmethod
    async def from_endpoint_config(cls, broker_config: EndpointConfig,
                                   event_loop=None) -> RedisStreamBroker:
        return cls(broker_config.url, broker_config.kwargs.get("stream", EVENTS_STREAM))

    def publish(self, event: dict[str, Any]) -> None:
        view = desk_view(event)
        if view is None:
            return
        try:
            self.client.xadd(self.stream, {"data": json.dumps(view, ensure_ascii=False)},
                             maxlen=STREAM_LENGTH, approximate=True)
        except redis.RedisError:  # the tracker has the event; the desk reloads it from there
            logger.exception("Could not publish a %s event for the desk", view["event"])

    def is_ready(self) -> bool:
        try:
            return bool(self.client.ping())
        except redis.RedisError:
            return False

    async def close(self) -> None:
        self.client.close()
