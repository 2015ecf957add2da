"""Rasa channel for Telegram in webhook mode (thin: the logic is in
teranga/channels/telegram_api.py). Telegram calls `POST /webhooks/telegram/webhook`; the update is
verified, stored durably (teranga/channels/pipeline.py), and only then answered."""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel
from redis.exceptions import RedisError
from sanic import Blueprint, response
from sanic.request import Request

from connectors.outputs import ProviderOutput, QueuedOutput, RasaTurns
from teranga.channels.inbound import InboundError, parse_json_object
from teranga.channels.pipeline import Pipeline
from teranga.channels.secret_context import remove_secret_sent_after_its_name
from teranga.channels.shared import redis_client
from teranga.channels.telegram_api import (
    CHANNEL,
    TelegramSender,
    TelegramSettings,
    read_update,
    secret_is_valid,
)
from teranga.settings import Settings

logger = logging.getLogger(__name__)


class TelegramInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        # TELEGRAM_API_URL: a local Bot API server, or the tests' stand-in; not a secret.
        return cls(TelegramSettings(**credentials,
                                    api_url=Settings.from_env().telegram_api_url))

    def __init__(self, settings: TelegramSettings) -> None:
        self.settings = settings
        self._sender: TelegramSender | None = None
        self._pipeline: Pipeline | None = None

    @property
    def sender(self) -> TelegramSender:
        if self._sender is None:
            self._sender = TelegramSender(self.settings, redis_client())
        return self._sender

    @property
    def pipeline(self) -> Pipeline:
        if self._pipeline is None:  # the process's one pipeline, unless a test gives another
            self._pipeline = Pipeline.shared()
        return self._pipeline

    def get_output_channel(self) -> OutputChannel:
        return QueuedOutput(self.pipeline, CHANNEL)

    async def send(self, recipient: str, message: dict[str, Any]) -> None:
        """The delivery queue's sender for this channel: really sends, with retries."""
        await ProviderOutput(self.sender).send_response(recipient, message)

    def blueprint(self, on_new_message) -> Blueprint:
        webhook = Blueprint("teranga_telegram_webhook", __name__)
        self.pipeline.register(CHANNEL, self.send)
        self.pipeline.attach(webhook, RasaTurns.maker(on_new_message))
        max_chars = Settings.from_env().max_message_chars

        @webhook.route("/", methods=["GET"])
        async def health(request: Request):
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request):
            if not secret_is_valid(self.settings,
                                   request.headers.get("X-Telegram-Bot-Api-Secret-Token")):
                logger.warning("Refused a Telegram update with a missing or wrong secret")
                return response.json({"error": "forbidden"}, status=403)
            try:
                update = parse_json_object(request.body or b"null", "a Telegram update")
                message = read_update(update, max_chars)
            except InboundError as error:
                logger.warning("Refused a Telegram update: %s", error.reason)
                return response.json({"error": f"not a Telegram update: {error.reason}"[:300]},
                                     status=error.status)
            if message is None:
                return response.json({"ok": True})
            try:
                text, metadata = await remove_secret_sent_after_its_name(
                    self.pipeline.client, message.sender, message.text, message.metadata)
                if not await self.pipeline.accept(CHANNEL, message.sender,
                                                  str(message.update_id), text, metadata):
                    logger.info("Telegram delivered update %s again: ignored",
                                message.update_id)
            except RedisError:
                logger.exception("Could not accept Telegram update %s: Redis is unavailable",
                                 message.update_id)
                return response.json({"error": "temporarily unavailable"}, status=503)
            return response.json({"ok": True})

        return webhook

