"""What every provider channel shares: its Redis connection and processing a message after
the provider has had its answer."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import redis.asyncio as aioredis
from rasa.core.channels.channel import OutputChannel, UserMessage

from teranga.channels.outbound import Option

logger = logging.getLogger(__name__)


def redis_client() -> aioredis.Redis:
    url = os.environ.get("REDIS_URL")
    if not url:
        raise RuntimeError("REDIS_URL is not set: the channels keep their state in Redis")
    return aioredis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


class Background:
    """Messages accepted from a provider (it got its 200 at once, so it does not time out and
    deliver again) and handed to Rasa afterwards."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()  # kept, or the loop may drop them unfinished

    def process(self, on_new_message, message: UserMessage) -> None:
        task = asyncio.get_running_loop().create_task(self._run(on_new_message, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout: float = 20.0) -> None:
        """On a graceful stop: let the messages in progress finish (their customers were
        told we have them), within `timeout` seconds."""
        if self._tasks:
            logger.info("Finishing %d message(s) before stopping", len(self._tasks))
            await asyncio.wait(set(self._tasks), timeout=timeout)

    @staticmethod
    async def _run(on_new_message, message: UserMessage) -> None:
        try:
            await on_new_message(message)
        except Exception:  # accepted already: the failure is logged, the tracker keeps it
            logger.exception("Failed to process a %s message from %s", message.input_channel,
                             message.sender_id)


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
