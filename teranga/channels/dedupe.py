"""Providers deliver a webhook again when they did not hear back in time: each provider
message id is handled once (teranga/channels/pipeline.py sets the key as it stores the
message)."""

from __future__ import annotations

from teranga import redis_keys

REMEMBER_SECONDS = 48 * 3600  # longer than any provider's retries


def seen_key(channel: str, message_id: str, prefix: str = redis_keys.PREFIX) -> str:
    return redis_keys.seen(channel, message_id, prefix)

