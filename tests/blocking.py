"""The handoff's stores are asynchronous (redis.asyncio); tests that hold a synchronous Redis
client, and wait in plain loops, call them through these wrappers: each call runs to its end
on one event loop kept in a thread of its own.

`Ownership(client).owner("c1")` here is `await Ownership(async_twin).owner("c1")` there.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading

import redis
import redis.asyncio as aioredis

from teranga import redis_keys
from teranga.agent_desk import auth
from teranga.handoff import availability, ownership, queue, records, satisfaction

_ASYNC_PARAMETERS = set(inspect.signature(aioredis.Redis.__init__).parameters) - {"self"}


@functools.cache
def _loop() -> asyncio.AbstractEventLoop:
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, name="blocking-handoff", daemon=True).start()
    return loop


def run(awaitable, timeout: float = 60):
    """Run a coroutine on the shared loop and wait for its result."""
    async def wrapped():
        return await awaitable

    return asyncio.run_coroutine_threadsafe(wrapped(), _loop()).result(timeout)


def _settings(client: redis.Redis) -> tuple:
    kwargs = client.connection_pool.connection_kwargs
    return tuple(sorted((k, v) for k, v in kwargs.items() if k in _ASYNC_PARAMETERS))


@functools.cache
def _async_client(settings: tuple) -> aioredis.Redis:
    return aioredis.Redis(**dict(settings))


def async_twin(client: redis.Redis) -> aioredis.Redis:
    """An asynchronous client of the same server and database, used on the shared loop
    only (one per server and settings, shared)."""
    return _async_client(_settings(client))


class Blocking:
    """An asynchronous object whose coroutine methods, called here, return their result."""

    def __init__(self, target) -> None:
        self.target = target

    def __getattr__(self, name: str):
        value = getattr(self.target, name)
        if not callable(value):
            return value

        @functools.wraps(value)
        def call(*args, **kwargs):
            result = value(*args, **kwargs)
            return run(result) if inspect.isawaitable(result) else result

        return call


class Ownership(Blocking):
    def __init__(self, client: redis.Redis, prefix: str = redis_keys.PREFIX) -> None:
        super().__init__(ownership.Ownership(async_twin(client), prefix))


class ConversationRecords(Blocking):
    def __init__(self, client: redis.Redis, prefix: str = redis_keys.PREFIX) -> None:
        super().__init__(records.ConversationRecords(async_twin(client), prefix))


class EscalationQueue(Blocking):
    def __init__(self, client: redis.Redis, stream: str = queue.STREAM,
                 group: str = queue.GROUP) -> None:
        super().__init__(queue.EscalationQueue(async_twin(client), stream, group))


class Presence(Blocking):
    def __init__(self, client: redis.Redis, prefix: str = redis_keys.PREFIX) -> None:
        super().__init__(availability.Presence(async_twin(client), prefix))


class Sessions(Blocking):
    def __init__(self, client: redis.Redis, prefix: str = f"{redis_keys.PREFIX}:desk") -> None:
        super().__init__(auth.Sessions(async_twin(client), prefix))


def by_agent(client: redis.Redis) -> dict[str, dict[str, int]]:
    return run(satisfaction.by_agent(async_twin(client)))
