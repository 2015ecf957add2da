"""Rasa's conversation lock with leases (addons/lock_store.py, teranga/channels/lock_leases.py)
on a real Redis: a lock whose holder was killed is taken over within seconds, one whose
holder is alive is not, however long it holds it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from urllib.parse import urlparse

import pytest
import redis
from rasa.utils.endpoints import EndpointConfig

from addons.lock_store import LOCK_LIFETIME, RedisLockStore
from teranga.channels.lock_leases import ALIVE_SECONDS, MISSING_SECONDS

HOLD = """
import asyncio, sys
from rasa.utils.endpoints import EndpointConfig
from addons.lock_store import RedisLockStore

async def main():
    store = RedisLockStore(EndpointConfig(url=sys.argv[1], port=int(sys.argv[2]),
                                          db=int(sys.argv[3]), key_prefix="leasetest"))
    async with store.lock(sys.argv[4]):
        print("held", flush=True)
        await asyncio.sleep(float(sys.argv[5]))

asyncio.run(main())
"""


def _store(real_redis_url: str) -> tuple[RedisLockStore, list[str]]:
    url = urlparse(real_redis_url)
    where = [url.hostname, str(url.port or 6379), url.path.strip("/") or "0"]
    store = RedisLockStore(EndpointConfig(url=where[0], port=int(where[1]), db=int(where[2]),
                                          key_prefix="leasetest"))
    return store, where


def _holder(where: list[str], conversation: str, seconds: float) -> subprocess.Popen:
    """Another process holding the conversation's lock for `seconds`."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, *where, conversation,
                                str(seconds)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


async def _time_to_lock(store: RedisLockStore, conversation: str) -> float:
    started = time.monotonic()
    async with store.lock(conversation):
        return time.monotonic() - started


def test_the_lock_of_a_killed_holder_is_taken_over_within_seconds(real_redis_url):
    store, where = _store(real_redis_url)
    conversation = f"lease-{uuid.uuid4().hex}"
    holder = _holder(where, conversation, 600)
    holder.kill()  # in the middle of its turn: its ticket stays, with 30 s to live
    holder.wait()
    waited = asyncio.run(_time_to_lock(store, conversation))
    assert waited < ALIVE_SECONDS + MISSING_SECONDS + 1.5 < LOCK_LIFETIME, waited


def test_a_live_holder_keeps_its_lock_for_as_long_as_it_holds_it(real_redis_url):
    store, where = _store(real_redis_url)
    conversation = f"lease-{uuid.uuid4().hex}"
    hold = ALIVE_SECONDS + MISSING_SECONDS + 3
    holder = _holder(where, conversation, hold)
    try:
        waited = asyncio.run(_time_to_lock(store, conversation))
    finally:
        holder.wait(30)
    assert waited >= hold - 1, waited


def test_a_ticket_whose_cleanup_failed_is_not_renewed(real_redis_url):
    """Giving a ticket back fails while Redis fails over; its lease must then lapse. It was
    renewed for the ticket's whole 30 s, and customers waited 34 s in bench/cluster.py."""
    store, _where = _store(real_redis_url)

    def failing_cleanup(*_args) -> None:
        raise redis.ConnectionError("Redis is failing over")

    store.cleanup = failing_cleanup

    async def turn() -> None:
        async with store.lock(f"lease-{uuid.uuid4().hex}"):
            pass

    with pytest.raises(redis.ConnectionError):
        asyncio.run(turn())
    assert not store._leases._held
