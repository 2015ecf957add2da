"""What every channel shares: its Redis connection."""

from __future__ import annotations

import redis.asyncio as aioredis

from teranga.redis_connections import async_redis
from teranga.settings import Settings


def redis_client() -> aioredis.Redis:
    url = Settings.from_env().require_redis_url("the channels' state")
    return async_redis(url, socket_connect_timeout=2, socket_timeout=5)
