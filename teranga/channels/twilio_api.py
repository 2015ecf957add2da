"""Twilio's SMS and WhatsApp channels: verifying and reading its webhooks, and sending through
its Messages API with the `twilio` library (asynchronously), fitted to each channel's limits.
The Rasa channels in connectors/twilio.py are thin adapters over this."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import aiohttp
import redis.asyncio as aioredis
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from teranga import conversation_ids
from teranga.channels import delivery_status, options
from teranga.channels.delivery import DeadLetters, SendError, send_with_retries
from teranga.channels.inbound import EMPTY_MESSAGE, MEDIA_MESSAGE, InboundError, prepare_text
from teranga.channels.outbound import Option, numbered, split_for_sms, split_long

logger = logging.getLogger(__name__)

# Twilio's Messages API takes at most 1600 characters in a body, WhatsApp included (WhatsApp
# itself allows 4096): a longer reply is sent as several messages, cut between sentences.
TWILIO_BODY_LIMIT = 1600
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str
    auth_token: str
    from_number: str  # "+221..." for SMS, "whatsapp:+221..." for WhatsApp
    # The webhook's address exactly as configured in Twilio's console: Twilio signs it, and
    # behind a reverse proxy the address this server sees is not the same.
    webhook_url: str
    api_url: str | None = None  # Twilio's API; another address only for tests or an edge


@dataclass(frozen=True)
class TwilioMessage:
    sid: str
    sender: str
    text: str
    metadata: dict = field(default_factory=dict)


def form_params(body: bytes) -> dict[str, str]:
    """Twilio's form fields, empty ones included: Twilio signs `Body=""` too (a picture sent
    without words), and Sanic's own form parsing drops empty fields."""
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return {}  # no valid signature can match it: refused as forged


def signature_is_valid(settings: TwilioSettings, params: dict[str, str],
                       signature: str | None, url: str | None = None) -> bool:
    """Twilio's signature of a request to `url` (the webhook's public address by default)."""
    return bool(signature) and RequestValidator(settings.auth_token).validate(
        url or settings.webhook_url, params, signature)


def read_webhook(params: dict[str, str], max_chars: int, channel: str) -> TwilioMessage:
    """A Twilio message webhook (form fields) as the assistant's inbound message; attachments
    and locations are kept as references in the metadata."""
    sid, sender = params.get("MessageSid"), params.get("From")
    if not sid or not sender:
        raise InboundError("a Twilio message webhook needs MessageSid and From")
    why = conversation_ids.refusal(sender, channel)
    if why:  # an SMS number on the WhatsApp webhook, or the reverse
        raise InboundError(f"From: {why}")
    text, notes = prepare_text(params.get("Body") or "", max_chars)
    attachments = [{"url": params.get(f"MediaUrl{i}"),
                    "content_type": params.get(f"MediaContentType{i}")}
                   for i in range(_count(params.get("NumMedia")))]
    if params.get("Latitude") and params.get("Longitude"):
        attachments.append({"location": {"latitude": params["Latitude"],
                                         "longitude": params["Longitude"]}})
    if attachments and text == EMPTY_MESSAGE:  # a picture, voice note... and no words
        text, notes = MEDIA_MESSAGE, {}
    record = {**notes, **({"attachments": attachments} if attachments else {}),
              "provider_message_id": sid}
    if params.get("ProfileName"):
        record["profile_name"] = params["ProfileName"]
    return TwilioMessage(sid, sender, text, {"teranga": record})


def _count(value: str | None) -> int:
    try:
        return max(0, min(10, int(value or 0)))  # Twilio sends at most 10 media
    except ValueError:
        return 0


class TwilioSender:
    """Sends one channel's messages: fitted, retried, dead-lettered."""

    def __init__(self, settings: TwilioSettings, channel: str, redis_client: aioredis.Redis):
        self.settings = settings
        self.channel = channel
        self.redis = redis_client
        self.dead_letters = DeadLetters(redis_client)
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        if self._client is None:  # its HTTP session must be made inside the event loop
            self._client = Client(self.settings.account_sid, self.settings.auth_token,
                                  http_client=AsyncTwilioHttpClient(timeout=10))
            if self.settings.api_url:
                self._client.api.base_url = self.settings.api_url
        return self._client

    def parts(self, text: str) -> list[str]:
        if self.channel == "twilio_sms":
            return split_for_sms(text)
        return split_long(text, TWILIO_BODY_LIMIT)

    @property
    def status_callback(self) -> str:
        """Where Twilio reports what became of each message: beside the webhook."""
        return self.settings.webhook_url.rsplit("/", 1)[0] + "/status"

    async def send_text(self, to: str, text: str,
                        timestamp: float | None = None) -> list[str | None]:
        """Twilio's message ids of the parts sent (None for a part that became a dead
        letter); `timestamp` is the bot message's, whose delivery the desk shows."""
        sids = []
        for part in self.parts(text)[await delivery_status.parts_sent(self.redis, to,
                                                                       timestamp):]:
            sid = await self._send(to, part)
            if sid:
                await delivery_status.sent(self.redis, to, timestamp, sid)
            sids.append(sid)
        if None in sids:  # one part lost is the message failed, whatever the others did
            await delivery_status.undeliverable(self.redis, to, timestamp)
        return sids

    async def send_options(self, to: str, text: str, choices: list[Option],
                           timestamp: float | None = None) -> None:
        await options.remember(self.redis, self.channel, to, choices)
        await self.send_text(to, numbered(text, choices), timestamp)

    async def _send(self, to: str, body: str) -> str | None:
        async def attempt() -> str:
            try:
                message = await self.client.messages.create_async(
                    to=to, from_=self.settings.from_number, body=body,
                    status_callback=self.status_callback)
                return message.sid
            except TwilioRestException as error:
                raise SendError(f"Twilio answered {error.status} (code {error.code}): "
                                f"{error.msg}", error.status) from error
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                raise SendError(f"Twilio did not answer: {error!r}") from error

        return await send_with_retries(
            attempt, {"channel": self.channel, "recipient": to, "text": body},
            self.dead_letters)
