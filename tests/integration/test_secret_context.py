"""A secret sent in the message after the one that named it ("my pin?" then "4582") is
removed before anything stores it, on real Redis (teranga/channels/secret_context.py)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis
import redis.asyncio as aioredis

from teranga import redis_keys
from teranga.channels.inbound import SECRETS_REMOVED, SENT_AFTER_ITS_NAME, prepare_text
from teranga.channels.secret_context import (
    REMEMBERED_SECONDS,
    remove_secret_sent_after_its_name,
)
from teranga.privacy.secrets import MASK


def conversation(real_redis_url, messages: list[str]) -> list[tuple[str, dict]]:
    """Each message as a channel reads it, then as the context leaves it."""
    sender = f"+2217{uuid.uuid4().int % 10**8:08d}"

    async def run():
        client = aioredis.Redis.from_url(real_redis_url)
        try:
            said = []
            for message in messages:
                text, metadata = prepare_text(message, 500)
                said.append(await remove_secret_sent_after_its_name(
                    client, sender, text, {"teranga": metadata}))
            return said
        finally:
            await client.close()
    return asyncio.run(run())


@pytest.mark.parametrize("messages", [
    ["my pin?", "4582"],
    ["nataka kubadilisha pin yangu", "ni 4 5 8 2"],
    ["j'ai oublié mon mot de passe", "Awa@2024"],
    ["sama code bi dafa bloqué", "4582."],
    ["mon code secret c'est 4528", "4582"],  # a correction of a value already removed
])
def test_a_value_sent_alone_after_its_name_is_removed(real_redis_url, messages):
    *_, (text, metadata) = conversation(real_redis_url, messages)
    assert text == MASK
    assert metadata["teranga"][SECRETS_REMOVED] and metadata["teranga"][SENT_AFTER_ITS_NAME]


@pytest.mark.parametrize("messages", [
    ["bonjour", "4582"],  # nothing named a secret before
    ["my pin?", "merci", "4582"],  # another message came in between
    ["my pin?", "i sent 4582 to my brother"],  # not a value alone
    ["my pin?", "*145#"],  # a USSD code
])
def test_anything_else_is_left_as_written(real_redis_url, messages):
    *_, (text, metadata) = conversation(real_redis_url, messages)
    assert text == messages[-1]
    assert SECRETS_REMOVED not in metadata.get("teranga", {})


def test_the_memory_is_short_and_goes_with_the_next_message(real_redis_url):
    client = redis.Redis.from_url(real_redis_url)
    sender = f"+2217{uuid.uuid4().int % 10**8:08d}"

    async def say(message):
        async_client = aioredis.Redis.from_url(real_redis_url)
        try:
            return await remove_secret_sent_after_its_name(async_client, sender, message, {})
        finally:
            await async_client.close()

    asyncio.run(say("my pin?"))
    assert 0 < client.ttl(redis_keys.secret_named(sender)) <= REMEMBERED_SECONDS
    asyncio.run(say("thanks"))
    assert not client.exists(redis_keys.secret_named(sender))


def test_without_redis_the_message_goes_on_unchanged(caplog):
    async def run():
        client = aioredis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
        try:
            return await remove_secret_sent_after_its_name(client, "+221770000000", "4582", {})
        finally:
            await client.close()
    assert asyncio.run(run()) == ("4582", {})
    assert "previous message named a secret" in caplog.text
