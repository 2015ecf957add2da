"""Leases on Rasa's conversation locks, so that a lock held by a process that died is freed
within seconds, not when its ticket's lifetime ends.

Rasa's lock is a queue of tickets, each with an expiry (30 s: addons/lock_store.py); a
process killed in the middle of a turn leaves its ticket at the head, and the process that
takes its message over (ordered_queue.py, after 6 s) waited up to 30 s more for it: in
bench/cluster.py, two Rasa processes killed in turn chained two such waits and customers
waited 42 s. Now each ticket's holder keeps a key alive while it waits and while it holds
(set every `HEARTBEAT_SECONDS` by a thread, lasting `ALIVE_SECONDS`: `Leases`); a waiter
that finds the serving ticket's key gone on looks `MISSING_SECONDS` apart takes the ticket
away. Two looks, not one:
after a Redis outage every key has lapsed, and a live holder sets its key again once Redis
is back (its event loop may be held a few seconds by Rasa's synchronous Redis calls).
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from redis.exceptions import RedisError

from teranga import redis_keys

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 1.0
ALIVE_SECONDS = 3  # three beats missed
# Silent for ALIVE_SECONDS, then seen missing this long: about the 6 s after which the
# queue gives a silent consumer's messages to another (ordered_queue.DEAD_AFTER_SECONDS). A
# shorter wait took tickets from live holders after a Redis failover in bench/cluster.py.
MISSING_SECONDS = 3.0


def mark_alive(client: redis.Redis, conversation_id: str, ticket: int) -> None:
    client.set(redis_keys.lock_holder(conversation_id, ticket), 1, ex=ALIVE_SECONDS)


class Leases:
    """The leases this process holds, renewed by a thread of their own: a holder whose event
    loop is held (Rasa's tracker and lock stores call Redis synchronously, up to their
    socket timeout, while a master is silent) still renews once the new master answers, so
    its ticket is not taken from it; a killed process renews nothing."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._held: set[tuple[str, int]] = set()
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None

    def take(self, conversation_id: str, ticket: int) -> None:
        mark_alive(self.client, conversation_id, ticket)
        with self._guard:
            self._held.add((conversation_id, ticket))
            if self._thread is None:
                self._thread = threading.Thread(target=self._renew, daemon=True,
                                                name="lock-leases")
                self._thread.start()

    def give_back(self, conversation_id: str, ticket: int) -> None:
        with self._guard:
            self._held.discard((conversation_id, ticket))
        release(self.client, conversation_id, ticket)

    def _renew(self) -> None:
        while True:
            time.sleep(HEARTBEAT_SECONDS)
            with self._guard:
                held = list(self._held)
            for conversation_id, ticket in held:
                try:
                    mark_alive(self.client, conversation_id, ticket)
                except RedisError as error:  # Redis failing over: the next beat tries again
                    logger.warning("Could not renew the lease of %s's lock: %s",
                                   conversation_id, error)
                    break


def release(client: redis.Redis, conversation_id: str, ticket: int) -> None:
    try:
        client.delete(redis_keys.lock_holder(conversation_id, ticket))
    except RedisError:
        pass  # it lapses by itself


class DeadHolders:
    """A waiter's view of the tickets ahead of it: which one's holder is gone."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._missing_since: dict[tuple[str, int], float] = {}

    def is_dead(self, conversation_id: str, serving: int, issued_at: float) -> bool:
        """Whether the holder of ticket `serving` (issued at `issued_at`, epoch seconds)
        has stopped renewing its lease."""
        now = time.time()
        if now - issued_at < ALIVE_SECONDS:
            return False  # too young to judge: its holder may not have marked it yet
        looked = (conversation_id, serving)
        try:
            alive = self.client.exists(redis_keys.lock_holder(conversation_id, serving))
        except RedisError:
            return False
        if alive:
            self._missing_since.pop(looked, None)
            return False
        first = self._missing_since.setdefault(looked, time.monotonic())
        if time.monotonic() - first < MISSING_SECONDS:
            return False
        self._missing_since.pop(looked, None)
        return True
