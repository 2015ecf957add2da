"""Messages kept per conversation on a Redis Stream for a client that reads them when it can:
the REST channel's outbox (an agent's reply, the bot's question on hand-back, collected by
long polling) and the web chat's transcript (what the widget shows again after a reload).
Each message's stream id is the position the client gives back (`after`) to read on.

What is kept (`Retention`), so that nothing goes before its client had a chance to read it:

- Every message newer than the client's last read position stays, however many there are,
  until it is `max_age_seconds` old (REST: 30 days).
- A read position is the `after` a client reads with: it says the client has everything up to
  that id. On the REST outbox (`read_grace_seconds` set), messages the client has read past
  are removed once they are also older than the grace (one hour), so a second reader or a
  retried poll still finds them for a while. The web chat's transcript is history the widget
  shows again, so reading removes nothing there.
- A hard cap (REST: 10,000 messages) bounds a conversation nobody reads; reaching it drops
  the oldest and logs a warning, since they may be unread.
- The key expires `max_age_seconds` after the last activity (a message added or a read), not
  after the last message added.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from teranga import redis_keys
from teranga.redis_connections import async_redis
from teranga.settings import Settings

logger = logging.getLogger(__name__)

# What a client needs of a message; Rasa's internals (model id, response conditions) stay out.
DELIVERED_FIELDS = ("text", "buttons", "quick_replies", "image", "attachment", "custom",
                    "elements", "agent", "agent_name", "timestamp")
MAX_WAIT_SECONDS = 25  # below the usual 30 s proxy timeout
READ_BATCH = 100  # messages one read returns at most; the client reads on from the last


@dataclass(frozen=True)
class Retention:
    max_age_seconds: int  # older messages go; the key expires this long after its last use
    hard_cap: int  # never more messages than this (the oldest go, with a warning)
    read_grace_seconds: int | None  # read-past messages go once this old; None: never


REST_RETENTION = Retention(max_age_seconds=30 * 86400, hard_cap=10_000,
                           read_grace_seconds=3600)

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


def _id_at(seconds: float) -> str:
    """The first stream id of that time."""
    return f"{max(0, int(seconds * 1000))}-0"


def _earlier(first: str, second: str) -> str:
    def key(stream_id: str) -> tuple[int, int]:
        ms, _, seq = stream_id.partition("-")
        return int(ms), int(seq or 0)
    return first if key(first) <= key(second) else second


class Outbox:
    """Per-conversation message streams under `prefix`, kept as `retention` says."""

    def __init__(self, url: str | None = None, *, client: aioredis.Redis | None = None,
                 prefix: str = redis_keys.OUTBOX, retention: Retention = REST_RETENTION,
                 name: str = "outbox") -> None:
        if client is None:
            url = url or Settings.from_env().require_redis_url("the outbox")
            client = async_redis(url, socket_connect_timeout=2)
        self.client = client
        self.prefix = prefix
        self.retention = retention
        self.name = name

    def key(self, recipient: str) -> str:
        return f"{self.prefix}{recipient}"

    async def put(self, recipient: str, message: dict[str, Any]) -> str:
        """Add a message; its stream id."""
        key, keep = self.key(recipient), self.retention
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.xadd(key, {"data": json.dumps(message, ensure_ascii=False)})
            pipe.xtrim(key, minid=_id_at(time.time() - keep.max_age_seconds),
                       approximate=False)
            pipe.expire(key, keep.max_age_seconds)
            pipe.xlen(key)
            entry_id, _, _, length = await pipe.execute()
        if length > keep.hard_cap:
            dropped = await self.client.xtrim(key, maxlen=keep.hard_cap, approximate=False)
            logger.warning("The %s of %s reached %d messages: its %d oldest were dropped, "
                           "perhaps unread", self.name, recipient, keep.hard_cap, dropped)
        return entry_id.decode()

    async def read(self, recipient: str, after: str = "0", wait_seconds: float = 0,
                   count: int = READ_BATCH) -> list[dict]:
        """Messages after the id `after` (the client's read position), oldest first, waiting
        up to `wait_seconds` for the first one."""
        key, keep = self.key(recipient), self.retention
        async with self.client.pipeline(transaction=False) as pipe:
            if keep.read_grace_seconds is not None and after != "0":
                read_past = _earlier(after, _id_at(time.time() - keep.read_grace_seconds))
                pipe.xtrim(key, minid=read_past, approximate=False)
            pipe.expire(key, keep.max_age_seconds)  # a read is activity too
            await pipe.execute()
        block = int(min(wait_seconds, MAX_WAIT_SECONDS) * 1000) or None
        replies = await self.client.xread({key: after}, count=count, block=block)
        return [_entry(entry_id, fields)
                for _key_name, entries in replies or [] for entry_id, fields in entries]

    async def latest(self, recipient: str, count: int) -> list[dict]:
        """The last `count` messages, oldest first."""
        entries = await self.client.xrevrange(self.key(recipient), count=count)
        return [_entry(entry_id, fields) for entry_id, fields in reversed(entries)]


def _entry(entry_id: bytes, fields: dict) -> dict:
    return {"id": entry_id.decode(), **json.loads(fields[b"data"])}
