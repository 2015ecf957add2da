"""The numbered options last shown to a customer on a channel without buttons, so that the
customer's "2" can be read as the second one."""

from __future__ import annotations

import json

import redis.asyncio as aioredis

from teranga import redis_keys
from teranga.channels.outbound import Option

KEEP_SECONDS = 24 * 3600


_key = redis_keys.options


async def remember(client: aioredis.Redis, channel: str, recipient: str,
                   options: list[Option]) -> None:
    data = json.dumps([[o.title, o.payload] for o in options], ensure_ascii=False)
    await client.set(_key(channel, recipient), data, ex=KEEP_SECONDS)


async def shown(client: aioredis.Redis, channel: str, recipient: str) -> list[Option]:
    data = await client.get(_key(channel, recipient))
    return [Option(title, payload) for title, payload in json.loads(data)] if data else []
