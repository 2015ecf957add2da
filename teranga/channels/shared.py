"""What every provider channel shares: its Redis connection and its output channel."""

from __future__ import annotations

import os
from typing import Any

import redis.asyncio as aioredis
from rasa.core.channels.channel import OutputChannel

from teranga.channels.outbound import Option


def redis_client() -> aioredis.Redis:
    url = os.environ.get("REDIS_URL")
    if not url:
        raise RuntimeError("REDIS_URL is not set: the channels keep their state in Redis")
    return aioredis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


class ProviderOutput(OutputChannel):
    """Rasa's output channel over a provider's sender (Twilio's, Telegram's): texts, buttons
    and images, each sent fitted, retried and tracked by the sender."""

    def __init__(self, sender) -> None:
        self.sender = sender

    def name(self) -> str:  # Rasa asks the instance
        return self.sender.channel

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.sender.send_text(recipient_id, text, kwargs.get("timestamp"))

    async def send_text_with_buttons(self, recipient_id: str, text: str,
                                     buttons: list[dict[str, Any]], **kwargs: Any) -> None:
        choices = [Option(b.get("title", ""), b.get("payload", "")) for b in buttons]
        await self.sender.send_options(recipient_id, text, choices, kwargs.get("timestamp"))

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.sender.send_text(recipient_id, image, kwargs.get("timestamp"))
