"""What every provider channel shares: its Redis connection and processing a message after
the provider has had its answer."""

from __future__ import annotations

import asyncio
import logging
import os

import redis.asyncio as aioredis
from rasa.core.channels.channel import UserMessage

logger = logging.getLogger(__name__)


def redis_client() -> aioredis.Redis:
    url = os.environ.get("REDIS_URL")
    if not url:
        raise RuntimeError("REDIS_URL is not set: the channels keep their state in Redis")
    return aioredis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


class Background:
    """Messages accepted from a provider (it got its 200 at once, so it does not time out and
    deliver again) and handed to Rasa afterwards."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()  # kept, or the loop may drop them unfinished

    def process(self, on_new_message, message: UserMessage) -> None:
        task = asyncio.get_running_loop().create_task(self._run(on_new_message, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _run(on_new_message, message: UserMessage) -> None:
        try:
            await on_new_message(message)
        except Exception:  # accepted already: the failure is logged, the tracker keeps it
            logger.exception("Failed to process a %s message from %s", message.input_channel,
                             message.sender_id)
