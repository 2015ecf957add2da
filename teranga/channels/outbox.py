"""Messages that reach a customer after their request has been answered: an agent's reply,
the bot's question on hand-back. Kept per conversation on a short Redis Stream, from which
a REST client collects them (long polling), so that nothing sent while it was away is lost.
"""

from __future__ import annotations

import json
import math
import os
import re
from typing import Any

import redis.asyncio as aioredis
from rasa.core.channels.channel import OutputChannel

# What a client needs of a message; Rasa's internals (model id, response conditions) stay out.
DELIVERED_FIELDS = ("text", "buttons", "quick_replies", "image", "attachment", "custom",
                    "elements", "agent", "agent_name", "timestamp")
KEEP_MESSAGES = 200
KEEP_SECONDS = 7 * 24 * 3600
MAX_WAIT_SECONDS = 25  # below the usual 30 s proxy timeout


_STREAM_ID = re.compile(r"[0-9]{1,20}(-[0-9]{1,20})?")


def outbox_position(after: str | None) -> str:
    """A client's `after`: a stream id it was given, or "0" for the beginning."""
    after = after or "0"
    if not _STREAM_ID.fullmatch(after):
        raise ValueError(f"not a message id: {after[:40]!r}")
    return after


def outbox_wait(wait: str | None) -> float:
    """A client's `wait`, in seconds, within [0, MAX_WAIT_SECONDS]."""
    seconds = float(wait or 0)
    if not math.isfinite(seconds):
        raise ValueError("wait must be a finite number")
    return min(max(0.0, seconds), MAX_WAIT_SECONDS)


def _key(recipient: str) -> str:
    return f"teranga:outbox:{recipient}"


class Outbox:
    def __init__(self, url: str | None = None) -> None:
        url = url or os.environ.get("REDIS_URL")
        if not url:
            raise RuntimeError("REDIS_URL is not set: the outbox keeps messages in Redis")
        self.client = aioredis.Redis.from_url(url, socket_connect_timeout=2)

    async def put(self, recipient: str, message: dict[str, Any]) -> str:
        key = _key(recipient)
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.xadd(key, {"data": json.dumps(message, ensure_ascii=False)},
                      maxlen=KEEP_MESSAGES, approximate=True)
            pipe.expire(key, KEEP_SECONDS)
            entry_id, _ = await pipe.execute()
        return entry_id.decode()

    async def read(self, recipient: str, after: str = "0", wait_seconds: float = 0) -> list[dict]:
        """Messages after the id `after`, waiting up to `wait_seconds` for the first one."""
        block = int(min(wait_seconds, MAX_WAIT_SECONDS) * 1000) or None
        replies = await self.client.xread({_key(recipient): after}, count=100, block=block)
        return [{"id": entry_id.decode(), **json.loads(fields[b"data"])}
                for _key_name, entries in replies or [] for entry_id, fields in entries]


class OutboxOutputChannel(OutputChannel):
    """Rasa's output channel for messages pushed to REST customers."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    @classmethod
    def name(cls) -> str:
        return "rest"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        await self.outbox.put(recipient_id, {k: message[k] for k in DELIVERED_FIELDS
                                             if message.get(k)})
