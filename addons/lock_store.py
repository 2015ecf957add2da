"""Rasa's Redis lock store, polling every 20 ms instead of every second, with locks that
outlive a killed process by 30 s instead of 60.

Rasa serialises the work on one conversation with this lock; a second request for a busy
conversation sleeps `wait_time_in_seconds` between looks, one second by default. Customers
on WhatsApp send bursts of short messages, and the desk pauses a conversation while the
escalating message is still being processed: each would wait a whole second for a lock that
frees a few milliseconds later.

A lock is a ticket with a lifetime; a process killed in the middle of a turn leaves its
ticket, and the process that takes the message over (teranga/channels/pipeline.py) waits
for it to expire. Rasa's default lifetime is 60 s; a turn lasts at most the action timeout
(15 s, addons/action_fallback.py) and its NLU, so 30 s still covers it twice.
`TICKET_LOCK_LIFETIME`, Rasa's own variable, overrides it. Named in endpoints.yml.
"""

from __future__ import annotations

from rasa.core.lock_store import DEFAULT_SOCKET_TIMEOUT_IN_SECONDS
from rasa.core.lock_store import RedisLockStore as RasaRedisLockStore
from rasa.utils.endpoints import EndpointConfig

from teranga.redis_connections import sync_redis, url_of
from teranga.settings import Settings

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

    def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
             wait_time_in_seconds: float = LOCK_POLL_SECONDS):
        return super().lock(conversation_id, lock_lifetime, wait_time_in_seconds)
