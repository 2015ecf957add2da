"""Sending to a provider without losing a message: retries with backoff when the provider
is overloaded or failing (429, 5xx, no answer), none when it refused the message (other 4xx),
and after the last try a dead letter that supervisors see in the desk."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio as aioredis

from teranga import redis_keys
from teranga.observability import metrics

logger = logging.getLogger(__name__)
T = TypeVar("T")

# About a minute in all: a reply waits on the durable delivery queue meanwhile (and the
# conversation's later replies behind it, in order), so a provider's short outage loses
# nothing; what is still refused after that becomes a dead letter.
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
DEAD_LETTERS = redis_keys.DEAD_LETTERS
KEEP_DEAD_LETTERS = 1000


class SendError(Exception):
    """A provider's refusal or failure; `status` is its HTTP status, None if it never
    answered."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status == 429 or self.status >= 500


class DeadLetters:
    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client

    async def add(self, letter: dict) -> None:
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.lpush(DEAD_LETTERS, json.dumps({**letter, "at": time.time()},
                                                ensure_ascii=False))
            pipe.ltrim(DEAD_LETTERS, 0, KEEP_DEAD_LETTERS - 1)
            await pipe.execute()

    async def latest(self, count: int = 20) -> list[dict]:
        """The latest messages no channel could deliver, newest first."""
        return [json.loads(item) for item in await self.client.lrange(DEAD_LETTERS, 0, count - 1)]


async def send_with_retries(send: Callable[[], Awaitable[T]], letter: dict,
                            dead_letters: DeadLetters,
                            delays: tuple[float, ...] = RETRY_DELAYS) -> T | None:
    """`send()`'s result, or None once the message is a dead letter."""
    for attempt in range(len(delays) + 1):
        try:
            result = await send()
        except SendError as error:
            if not error.retryable or attempt == len(delays):
                logger.error("Giving up sending to %s on %s after %d attempt(s): %s",
                             letter.get("recipient"), letter.get("channel"), attempt + 1, error)
                await dead_letters.add({**letter, "error": str(error), "status": error.status,
                                        "attempts": attempt + 1})
                metrics.delivery(letter.get("channel"), "dead_letter")
                return None
            logger.warning("Sending on %s failed (%s), retrying in %.1f s",
                           letter.get("channel"), error, delays[attempt])
            metrics.delivery(letter.get("channel"), "retry")
            await asyncio.sleep(delays[attempt])
            continue
        metrics.delivery(letter.get("channel"), "sent")
        return result
    return None
