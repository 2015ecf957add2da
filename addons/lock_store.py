"""Rasa's Redis lock store, polling every 20 ms instead of every second, with locks that
outlive a killed process by 30 s instead of 60.

Rasa serialises the work on one conversation with this lock; a second request for a busy
conversation sleeps `wait_time_in_seconds` between looks, one second by default. Customers
on WhatsApp send bursts of short messages, and the desk pauses a conversation while the
escalating message is still being processed: each would wait a whole second for a lock that
frees a few milliseconds later.

A lock is a ticket with a lifetime; a process killed in the middle of a turn leaves its
ticket. Each ticket here also has a lease its holder renews every second
(teranga/channels/lock_leases.py): the process that takes the message over
(teranga/channels/pipeline.py) takes the ticket away once its lease has lapsed, a few
seconds after the holder died, instead of waiting for the lifetime to end. The lifetime
stays, for a holder alive but stuck: Rasa's default is 60 s; a turn lasts at most the action
timeout (15 s, addons/action_fallback.py) and its NLU, so 30 s still covers it twice.
`TICKET_LOCK_LIFETIME`, Rasa's own variable, overrides it. Named in endpoints.yml.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from rasa.core.lock import TicketLock
from rasa.core.lock_store import DEFAULT_SOCKET_TIMEOUT_IN_SECONDS
from rasa.core.lock_store import RedisLockStore as RasaRedisLockStore
from rasa.utils.endpoints import EndpointConfig

from teranga.channels import lock_leases
from teranga.redis_connections import sync_redis, url_of
from teranga.settings import Settings

logger = logging.getLogger(__name__)

LOCK_POLL_SECONDS = 0.02
LOCK_LIFETIME = Settings.from_env().lock_lifetime_seconds


class RedisLockStore(RasaRedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        # the same construction as Rasa's own for `type: redis`, then the client through
        # Sentinel when it is configured (teranga/redis_connections.py)
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)
        kwargs = endpoint_config.kwargs
        self.red.close()
        self.red = sync_redis(url_of(endpoint_config.url, kwargs.get("port", 6379),
                                     kwargs.get("db", 1), kwargs.get("password")),
                              socket_timeout=kwargs.get("socket_timeout",
                                                        DEFAULT_SOCKET_TIMEOUT_IN_SECONDS))
        self._dead_holders = lock_leases.DeadHolders(self.red)
        self._leases = lock_leases.Leases(self.red)

    @asynccontextmanager
    async def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = LOCK_POLL_SECONDS
                   ) -> AsyncGenerator[TicketLock, None]:
        """Rasa's, with the ticket's lease kept while it is waited for and held."""
        ticket = self.issue_ticket(conversation_id, lock_lifetime)
        self._leases.take(conversation_id, ticket)
        try:
            yield await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
        finally:
            # The lease first: a cleanup that fails (Redis failing over) leaves the ticket,
            # which must then lapse, not be renewed for its 30 s.
            self._leases.give_back(conversation_id, ticket)
            self.cleanup(conversation_id, ticket)

    def update_lock(self, conversation_id: str) -> None:
        """Rasa's look while waiting (expired tickets removed), and the serving ticket
        removed when its holder's lease has lapsed."""
        lock = self.get_lock(conversation_id)
        if not lock:
            return
        lock.remove_expired_tickets()
        if lock.tickets:
            serving = lock.tickets[0]
            if self._dead_holders.is_dead(conversation_id, serving.number,
                                          serving.expires - LOCK_LIFETIME):
                logger.warning("The holder of %s's lock stopped renewing its lease: its "
                               "ticket is taken away", conversation_id)
                lock.remove_ticket_for(serving.number)
        self.save_lock(lock)
