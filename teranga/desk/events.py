"""Every message of every conversation, as Rasa stores it, published on a Redis Stream.

`RedisStreamBroker` is a Rasa event broker (named in endpoints.yml): the tracker store hands
it each new event, so the customer's messages reach the desk as they arrive, including while
an agent owns the conversation and the bot is paused, without touching the dialogue code.
The tracker stays the record; this stream only carries news (capped, best effort).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import redis
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

EVENTS_STREAM = "teranga:events"
STREAM_LENGTH = 100_000
# Events the desk shows; the rest (actions, slots) stay in the tracker only.
SHOWN = {"user", "bot", "pause", "resume"}


def desk_view(event: dict[str, Any]) -> dict[str, Any] | None:
    """What the desk needs of a tracker event, or None if it does not show it."""
    if event.get("event") not in SHOWN:
        return None
    parse = event.get("parse_data") or {}
    view = {"conversation_id": event.get("sender_id"), "event": event["event"],
            "text": event.get("text"), "at": event.get("timestamp"),
            "agent": (event.get("metadata") or {}).get("agent"),
            "agent_name": (event.get("metadata") or {}).get("agent_name")}
    if event["event"] == "user":
        view.update(channel=event.get("input_channel"),
                    intent=(parse.get("intent") or {}).get("name"),
                    sentiment=parse.get("sentiment"),
                    language=next((e.get("value") for e in parse.get("entities") or []
                                   if e.get("entity") == "language"), None))
    return view


class RedisStreamBroker(EventBroker):
    def __init__(self, url: str, stream: str = EVENTS_STREAM) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
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
