"""Telegram in webhook mode with python-telegram-bot: verifying and reading its updates, and
sending through the Bot API, retried and dead-lettered like every channel. The Rasa channel
in connectors/telegram.py is a thin adapter over this."""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from teranga.channels import delivery_status
from teranga.channels.delivery import DeadLetters, SendError, send_with_retries
from teranga.channels.inbound import EMPTY_MESSAGE, MEDIA_MESSAGE, InboundError, prepare_text
from teranga.channels.outbound import Option, split_long

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
SENDER_PREFIX = "telegram:"  # conversation ids: "telegram:<chat id>"
MAX_CALLBACK_DATA = 64  # bytes Telegram keeps behind a button


@dataclass(frozen=True)
class TelegramSettings:
    token: str
    # The secret given to setWebhook(secret_token=...); Telegram sends it back in the
    # X-Telegram-Bot-Api-Secret-Token header of every update.
    webhook_secret: str
    api_url: str | None = None  # the Bot API; another address only for tests or a local server


@dataclass(frozen=True)
class TelegramMessage:
    update_id: int
    sender: str
    text: str
    metadata: dict = field(default_factory=dict)


def secret_is_valid(settings: TelegramSettings, header: str | None) -> bool:
    return bool(header) and hmac.compare_digest(header.encode(), settings.webhook_secret.encode())


def read_update(data: Any, max_chars: int) -> TelegramMessage | None:
    """An update as the assistant's inbound message; None for updates it does not answer
    (edits, joins, a bot's own messages)."""
    _check_shape(data)
    try:
        update = Update.de_json(data, None)
    except Exception as error:  # the library assumes well-formed updates
        raise InboundError(f"not a Telegram update: {type(error).__name__}") from error
    if update.callback_query and update.callback_query.message:  # a button was pressed
        chat = update.callback_query.message.chat
        return TelegramMessage(update.update_id, f"{SENDER_PREFIX}{chat.id}",
                               update.callback_query.data or EMPTY_MESSAGE,
                               {"teranga": {"provider_message_id": str(update.update_id)}})
    message = update.message
    if message is None or (message.from_user and message.from_user.is_bot):
        return None
    text, notes = prepare_text(message.text or message.caption or "", max_chars)
    attachments = _attachments(message)
    if attachments and text == EMPTY_MESSAGE:
        text, notes = MEDIA_MESSAGE, {}
    record = {**notes, **({"attachments": attachments} if attachments else {}),
              "provider_message_id": str(message.message_id)}
    if message.from_user and isinstance(message.from_user.first_name, str):
        record["profile_name"] = message.from_user.first_name[:100]
    return TelegramMessage(update.update_id, f"{SENDER_PREFIX}{message.chat.id}", text,
                           {"teranga": record})


def _check_shape(data: Any) -> None:
    """The fields the assistant relies on, with Bot API types: python-telegram-bot trusts
    Telegram and would fail (or carry a chat id "abc") on anything else."""
    if not isinstance(data, dict) or not _is_int(data.get("update_id")):
        raise InboundError("a Telegram update is an object with an integer update_id")
    query = data.get("callback_query")
    if query is not None:
        if not isinstance(query, dict) or not isinstance(query.get("data", ""), str):
            raise InboundError("callback_query.data must be a string")
        _check_message(query.get("message"), "callback_query.message", optional=True)
    _check_message(data.get("message"), "message", optional=True)


def _check_message(message: Any, where: str, optional: bool) -> None:
    if message is None and optional:
        return
    if not isinstance(message, dict) or not _is_int(message.get("message_id")):
        raise InboundError(f"{where} must be an object with an integer message_id")
    chat = message.get("chat")
    if not isinstance(chat, dict) or not _is_int(chat.get("id")):
        raise InboundError(f"{where}.chat must be an object with an integer id")
    for field_name in ("text", "caption"):
        if not isinstance(message.get(field_name, ""), str):
            raise InboundError(f"{where}.{field_name} must be a string")
    sender = message.get("from")
    if sender is not None and not isinstance(sender, dict):
        raise InboundError(f"{where}.from must be an object")


def _is_int(value: Any) -> bool:
    # Bot API ids fit in 52 bits; bool is an int to Python but not to Telegram.
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2 ** 53


def _attachments(message) -> list[dict]:
    """References to what came with the message (Telegram file ids), with content types."""
    found = []
    for kind, content_type in (("voice", "audio/ogg"), ("audio", "audio/mpeg"),
                               ("document", None), ("video", "video/mp4"),
                               ("sticker", "image/webp")):
        item = getattr(message, kind, None)
        if item:
            found.append({"file_id": item.file_id,
                          "content_type": getattr(item, "mime_type", None) or content_type
                          or "application/octet-stream"})
    if message.photo:
        found.append({"file_id": message.photo[-1].file_id, "content_type": "image/jpeg"})
    if message.location:
        found.append({"location": {"latitude": message.location.latitude,
                                   "longitude": message.location.longitude}})
    return found


class TelegramSender:
    channel = CHANNEL

    def __init__(self, settings: TelegramSettings, redis_client: aioredis.Redis) -> None:
        self.settings = settings
        self.redis = redis_client
        self.dead_letters = DeadLetters(redis_client)
        self._bot: Bot | None = None

    async def bot(self) -> Bot:
        if self._bot is None:  # made and initialised inside the event loop, on first use
            options = {"base_url": f"{self.settings.api_url}/bot"} if self.settings.api_url \
                else {}
            bot = Bot(self.settings.token, **options)
            await bot.initialize()
            self._bot = bot
        return self._bot

    async def send_options(self, recipient: str, text: str, choices: list[Option],
                           timestamp: float | None = None) -> None:
        await self.send_text(recipient, text, timestamp, choices)

    async def send_text(self, recipient: str, text: str, timestamp: float | None = None,
                        choices: list[Option] | None = None) -> None:
        parts, lost = split_long(text), False
        already = await delivery_status.parts_sent(self.redis, recipient, timestamp)
        for index, part in enumerate(parts[already:], start=already):
            last = index == len(parts) - 1
            sent = await self._send(recipient, part, choices if last else None)
            if sent:
                await delivery_status.sent(self.redis, recipient, timestamp, sent, "sent")
            lost = lost or sent is None
        if lost:  # one part lost is the message failed, whatever the others did
            await delivery_status.undeliverable(self.redis, recipient, timestamp)

    async def _send(self, recipient: str, text: str, choices: list[Option] | None) -> str | None:
        chat_id = int(recipient.removeprefix(SENDER_PREFIX))
        markup = _keyboard(choices) if choices else None

        async def attempt() -> str:
            try:
                message = await (await self.bot()).send_message(chat_id, text,
                                                                reply_markup=markup)
                return f"{chat_id}:{message.message_id}"
            except (BadRequest, Forbidden) as error:
                raise SendError(f"Telegram refused the message: {error.message}", 400) from error
            except RetryAfter as error:
                raise SendError(f"Telegram asks to wait {error.retry_after} s", 429) from error
            except (NetworkError, TelegramError) as error:
                raise SendError(f"Telegram failed: {error.message}") from error

        return await send_with_retries(
            attempt, {"channel": CHANNEL, "recipient": recipient, "text": text},
            self.dead_letters)


def _keyboard(choices: list[Option]) -> InlineKeyboardMarkup:
    """Buttons under the message; a payload Telegram cannot hold is replaced by the title."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(
        option.title, callback_data=option.payload
        if len(option.payload.encode()) <= MAX_CALLBACK_DATA else option.title[:32])]
        for option in choices])
