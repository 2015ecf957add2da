"""Rasa's Redis lock store, polling every 20 ms instead of every second.

Rasa serialises the work on one conversation with this lock; a second request for a busy
conversation sleeps `wait_time_in_seconds` between looks, one second by default. Customers
on WhatsApp send bursts of short messages, and the desk pauses a conversation while the
escalating message is still being processed: each would wait a whole second for a lock that
frees a few milliseconds later. Named in endpoints.yml.
"""

from __future__ import annotations

from rasa.core.lock_store import LOCK_LIFETIME
from rasa.core.lock_store import RedisLockStore as RasaRedisLockStore
from rasa.utils.endpoints import EndpointConfig

LOCK_POLL_SECONDS = 0.02


class RedisLockStore(RasaRedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        # the same construction as Rasa's own for `type: redis`
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)

    def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
             wait_time_in_seconds: float = LOCK_POLL_SECONDS):
        return super().lock(conversation_id, lock_lifetime, wait_time_in_seconds)
