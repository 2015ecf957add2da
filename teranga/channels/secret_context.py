"""A secret sent in the message after the one that named it: "my pin?" then "4582". Each
message alone looks harmless, so the conversation remembers for a few minutes that its latest
message named a PIN, a code or a password; a message that is then nothing but a value has the
value removed, as if it had been named, before anything stores it.

Called by every channel between reading a message and accepting it, with the channel's own
Redis connection. If Redis cannot be reached the message goes on unchanged: the channel's own
accept fails then anyway, and the customer's provider sends it again."""

from __future__ import annotations

import logging
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from teranga import redis_keys
from teranga.channels.inbound import SECRETS_REMOVED, SENT_AFTER_ITS_NAME
from teranga.privacy.found import SECRET
from teranga.privacy.secrets import MASK, a_value_alone, names_a_secret

logger = logging.getLogger(__name__)
# How long after a message naming a secret a value sent alone is taken for it.
REMEMBERED_SECONDS = 600


async def remove_secret_sent_after_its_name(
        client: aioredis.Redis, conversation_id: str, text: str,
        metadata: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """`text` and `metadata` as they should be stored: a value sent alone right after a
    message that named a secret becomes `MASK`, noted like any removed secret."""
    metadata = dict(metadata or {})
    notes = dict(metadata.get("teranga") or {})
    key = redis_keys.secret_named(conversation_id)
    try:
        if a_value_alone(notes.get("full_text") or text) and await client.exists(key):
            notes.update({SECRETS_REMOVED: [SECRET], SENT_AFTER_ITS_NAME: True})
            notes.pop("full_text", None)
            text = MASK
        elif names_a_secret(text) or SECRETS_REMOVED in notes:
            await client.set(key, 1, ex=REMEMBERED_SECONDS)
        else:
            await client.delete(key)
    except RedisError:
        logger.warning("Could not check whether %s's previous message named a secret",
                       conversation_id)
    return text, {**metadata, "teranga": notes} if notes else metadata
