"""Delivery statuses of the messages sent to customers, as providers report them (queued,
sent, delivered, read, failed, undelivered), kept per conversation and message so that the
desk shows each agent's message with its fate, live."""

from __future__ import annotations

import asyncio
import json

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from teranga import redis_keys
from teranga.desk_notices import NOTICES_LENGTH, NOTICES_STREAM, notice

KEEP_SECONDS = 7 * 24 * 3600
RECORD_PATIENCE_SECONDS = 60.0
FINAL_FAILURES = ("failed", "undelivered")


# Not under teranga:delivery:, where the delivery queue keeps its own keys.
_statuses, _parts, _sid = (redis_keys.delivery_status, redis_keys.delivery_parts,
                           redis_keys.delivery_id)


def message_key(timestamp: float | None) -> str:
    """A bot message's key: its tracker timestamp, as Rasa stores it."""
    return repr(float(timestamp)) if timestamp is not None else "?"


async def sent(client: aioredis.Redis, conversation_id: str, timestamp: float | None,
               provider_id: str, status: str = "queued") -> None:
    """Record a part the provider took. Tried again while Redis is away (up to about a
    minute): without this record, the delivery would be retried and the part sent twice."""
    delay, waited = 0.2, 0.0
    while True:
        try:
            async with client.pipeline(transaction=False) as pipe:
                pipe.set(_sid(provider_id), json.dumps([conversation_id,
                                                        message_key(timestamp)]),
                         ex=KEEP_SECONDS)
                pipe.hset(_statuses(conversation_id), message_key(timestamp), status)
                pipe.expire(_statuses(conversation_id), KEEP_SECONDS)
                pipe.hincrby(_parts(conversation_id), message_key(timestamp), 1)
                pipe.expire(_parts(conversation_id), KEEP_SECONDS)
                await pipe.execute()
            return
        except RedisError:
            if waited >= RECORD_PATIENCE_SECONDS:
                raise
            await asyncio.sleep(delay)
            waited, delay = waited + delay, min(5.0, delay * 2)


async def parts_sent(client: aioredis.Redis, conversation_id: str,
                     timestamp: float | None) -> int:
    """How many parts of this message the provider already took: a delivery taken over
    from a process that died mid-message sends only the rest."""
    if timestamp is None:
        return 0
    return int(await client.hget(_parts(conversation_id), message_key(timestamp)) or 0)


async def reported(client: aioredis.Redis, provider_id: str, status: str) -> bool:
    """A provider's status callback; False if the message is not one of ours."""
    known = await client.get(_sid(provider_id))
    if known is None:
        return False
    conversation_id, key = json.loads(known)
    current = await client.hget(_statuses(conversation_id), key)
    if current and current.decode() in FINAL_FAILURES:
        return True  # one part of a split message failed: the message failed
    await _record(client, conversation_id, key, status)
    return True


async def undeliverable(client: aioredis.Redis, conversation_id: str,
                        timestamp: float | None) -> None:
    """A message (or a part of it) the provider never took, after every retry: the agent
    sees it as failed, live, and can try another way."""
    await _record(client, conversation_id, message_key(timestamp), "failed")


async def _record(client: aioredis.Redis, conversation_id: str, key: str, status: str) -> None:
    await client.hset(_statuses(conversation_id), key, status)
    await client.expire(_statuses(conversation_id), KEEP_SECONDS)
    await client.xadd(NOTICES_STREAM, notice("delivery", conversation_id, None, "",
                                             message=key, status=status),
                      maxlen=NOTICES_LENGTH, approximate=True)


async def statuses(client: aioredis.Redis, conversation_id: str) -> dict[str, str]:
    """Each sent message's provider status, by `message_key`."""
    found = await client.hgetall(_statuses(conversation_id))
    return {k.decode(): v.decode() for k, v in found.items()}
