"""WhatsApp's customer-service window: a business may write free-form messages only within
24 hours of the customer's last message; after that only approved templates. The channels
record when each customer last wrote; the desk checks before an agent's reply goes out, so a
late reply is refused with the reason instead of silently failing at the provider."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import redis.asyncio as aioredis

from teranga import redis_keys

WINDOW_SECONDS = 24 * 3600
WINDOW_CHANNELS = ("twilio_whatsapp",)


_key = redis_keys.last_inbound


async def record_inbound(client: aioredis.Redis, channel: str, sender: str) -> None:
    if channel in WINDOW_CHANNELS:
        await client.set(_key(channel, sender), time.time(), ex=8 * WINDOW_SECONDS)


async def last_inbound(client: aioredis.Redis, channel: str, sender: str) -> float | None:
    """When the customer last wrote on `channel`, if on record."""
    value = await client.get(_key(channel, sender))
    return float(value) if value is not None else None


def closed_reason(channel: str, last_inbound: float | None,
                  now: float | None = None) -> str | None:
    """Why a free-form message to this customer cannot go out now, or None if it can;
    `last_inbound` is when they last wrote (`record_inbound`), if on record."""
    if channel not in WINDOW_CHANNELS:
        return None
    value = last_inbound
    now = time.time() if now is None else now
    if value is not None and now - float(value) < WINDOW_SECONDS:
        return None
    since = (f"their last message was on "
             f"{datetime.fromtimestamp(float(value), timezone.utc):%d/%m %H:%M} UTC"
             if value is not None else "no message from them is on record")
    return (f"WhatsApp allows free-form replies only within 24 hours of the customer's last "
            f"message, and {since}. Send them an approved WhatsApp template from Twilio's "
            f"console, or wait until they write again.")
