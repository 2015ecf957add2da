"""Providers deliver a webhook again when they did not hear back in time: each provider
message id is handled once."""

from __future__ import annotations

import redis.asyncio as aioredis

REMEMBER_SECONDS = 48 * 3600  # longer than any provider's retries


async def first_time(client: aioredis.Redis, channel: str, message_id: str) -> bool:
    """True the first time this channel's message id is seen, False after."""
    return bool(await client.set(f"teranga:seen:{channel}:{message_id}", 1, nx=True,
                                 ex=REMEMBER_SECONDS))
