"""Rasa channels for SMS and WhatsApp through Twilio (thin: the logic is in
teranga/channels/twilio_api.py). Twilio calls `POST /webhooks/<name>/webhook`; the webhook is
verified, stored durably (teranga/channels/pipeline.py) and only then answered, so that Twilio
neither times out waiting for the bot nor is told "received" about a message we could lose."""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel
from redis.exceptions import RedisError
from sanic import Blueprint, response
from sanic.request import Request

from connectors.outputs import ProviderOutput, QueuedOutput, RasaTurns
from teranga.channels import delivery_status, options
from teranga.channels.inbound import InboundError
from teranga.channels.outbound import chosen_option
from teranga.channels.pipeline import Pipeline
from teranga.channels.secret_context import remove_secret_sent_after_its_name
from teranga.channels.shared import redis_client
from teranga.channels.twilio_api import (
    EMPTY_TWIML,
    TwilioSender,
    TwilioSettings,
    form_params,
    read_webhook,
    signature_is_valid,
)
from teranga.channels.whatsapp_window import record_inbound
from teranga.settings import Settings

logger = logging.getLogger(__name__)


class TwilioSmsInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "twilio_sms"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        # TWILIO_API_URL: another address for Twilio's API (a regional edge, or the tests'
        # stand-in); not a secret, so not in credentials.yml.
        return cls(TwilioSettings(**credentials, api_url=Settings.from_env().twilio_api_url))

    def __init__(self, settings: TwilioSettings) -> None:
        self.settings = settings
        self._sender: TwilioSender | None = None
        self._pipeline: Pipeline | None = None

    @property
    def sender(self) -> TwilioSender:
        if self._sender is None:  # made in the server's event loop, on first use
            self._sender = TwilioSender(self.settings, self.name(), redis_client())
        return self._sender

    @property
    def pipeline(self) -> Pipeline:
        if self._pipeline is None:  # the process's one pipeline, unless a test gives another
            self._pipeline = Pipeline.shared()
        return self._pipeline

    def get_output_channel(self) -> OutputChannel:
        return QueuedOutput(self.pipeline, self.name())

    async def send(self, recipient: str, message: dict[str, Any]) -> None:
        """The delivery queue's sender for this channel: really sends, with retries."""
        await ProviderOutput(self.sender).send_response(recipient, message)

    def blueprint(self, on_new_message) -> Blueprint:
        webhook = Blueprint(f"teranga_{self.name()}_webhook", __name__)
        self.pipeline.register(self.name(), self.send)
        self.pipeline.attach(webhook, RasaTurns.maker(on_new_message))
        max_chars = Settings.from_env().max_message_chars

        @webhook.route("/", methods=["GET"])
        async def health(request: Request):
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request):
            params = form_params(request.body)
            if not signature_is_valid(self.settings, params,
                                      request.headers.get("X-Twilio-Signature")):
                logger.warning("Refused a %s webhook with a missing or wrong signature",
                               self.name())
                return response.text("invalid signature", status=403)
            try:
                message = read_webhook(params, max_chars, self.name())
            except InboundError as error:
                logger.warning("Refused a %s webhook: %s", self.name(), error.reason)
                return response.text(error.reason, status=error.status)
            try:
                await self._accept(message)
            except RedisError:
                logger.exception("Could not accept %s %s: Redis is unavailable", self.name(),
                                 message.sid)
                return response.text("temporarily unavailable", status=503)
            return response.text(EMPTY_TWIML, content_type="text/xml")

        @webhook.route("/status", methods=["POST"])
        async def status(request: Request):
            """Twilio's status callback: what became of a message we sent."""
            params = form_params(request.body)
            if not signature_is_valid(self.settings, params,
                                      request.headers.get("X-Twilio-Signature"),
                                      self.sender.status_callback):
                logger.warning("Refused a %s status callback with a wrong signature",
                               self.name())
                return response.text("invalid signature", status=403)
            if params.get("MessageSid") and params.get("MessageStatus"):
                try:
                    await delivery_status.reported(self.sender.redis, params["MessageSid"],
                                                   params["MessageStatus"][:32])
                except RedisError:
                    logger.exception("Could not record a %s delivery status", self.name())
                    return response.text("temporarily unavailable", status=503)
            return response.empty()

        return webhook

    async def _accept(self, message) -> None:
        """Store the message for Rasa (once per MessageSid) and remember the customer wrote
        (WhatsApp's window)."""
        text, metadata = await remove_secret_sent_after_its_name(
            self.sender.redis, message.sender, message.text, message.metadata)
        text = await self._picked_option(message.sender, text)
        if not await self.pipeline.accept(self.name(), message.sender, message.sid, text,
                                          metadata):
            logger.info("%s delivered %s again: ignored", self.name(), message.sid)
            return
        await record_inbound(self.sender.redis, self.name(), message.sender)

    async def _picked_option(self, sender: str, text: str) -> str:
        """A "2" answering numbered options becomes the second option's payload."""
        choice = chosen_option(text, await options.shown(self.sender.redis, self.name(), sender))
        return choice.payload if choice else text


class TwilioWhatsAppInput(TwilioSmsInput):
    @classmethod
    def name(cls) -> str:
        return "twilio_whatsapp"
