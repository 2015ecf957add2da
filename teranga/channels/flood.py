"""A conversation that writes faster than a person can is held back, so that one client
cannot take the whole server from other customers. A person types at most a message every
few seconds; a program looping on one conversation gets a 429 (REST, with the time to wait)
or has its surplus web-chat events dropped and logged. The limit counts per conversation in
Redis, so every Rasa process shares it."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from teranga import redis_keys
from teranga.settings import Settings

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 10


@dataclass(frozen=True)
class FloodVerdict:
    allowed: bool
    retry_after: int = 0  # seconds until the conversation may write again


def max_messages() -> int:
    """Messages a conversation may send in WINDOW_SECONDS (TERANGA_MAX_MESSAGES_PER_10S)."""
    return Settings.from_env().max_messages_per_10s


async def check(client: aioredis.Redis, conversation_id: str) -> FloodVerdict:
    """Count this message; refused past the limit. Without Redis the message goes through
    (the flood guard must not take the channel down with it)."""
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    key = redis_keys.flood(conversation_id, window)
    try:
        async with client.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, 2 * WINDOW_SECONDS)
            count, _ = await pipe.execute()
    except RedisError:
        logger.exception("Could not count %s's messages; letting this one through",
                         conversation_id)
        return FloodVerdict(True)
    if count <= max_messages():
        return FloodVerdict(True)
    retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now) + 1)
    if count == max_messages() + 1:  # once per window, not once per message
        logger.warning("%s sends more than %d messages in %d s: held back", conversation_id,
                       max_messages(), WINDOW_SECONDS)
    return FloodVerdict(False, retry_after)
