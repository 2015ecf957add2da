"""Which channel a conversation id belongs to.

Every channel owns a namespace of ids that no other channel can write into, so that nobody
who knows a customer's phone number can speak in their conversation or receive an agent's
reply meant for them:

| channel            | its ids                         | who vouches for them          |
|--------------------|---------------------------------|-------------------------------|
| `twilio_sms`       | `+<digits>`                     | Twilio's signature            |
| `twilio_whatsapp`  | `whatsapp:+<digits>`            | Twilio's signature            |
| `telegram`         | `telegram:<chat id>`            | Telegram's secret token       |
| `socketio`         | `web:<32 hex digits>`           | issued by the server          |
| `rest`             | any other id                    | the caller (a shared secret)  |

The namespace is read from the id alone: no lookup, no race, and an agent's reply always
leaves through the conversation's own channel (never "whichever channel wrote last").
"""

from __future__ import annotations

import re
import secrets

MAX_ID_CHARS = 128
# Usable as is in Rasa's HTTP API paths, which Sanic does not percent-decode.
_ID = re.compile(rf"[A-Za-z0-9_.:+@-]{{1,{MAX_ID_CHARS}}}")

SMS, WHATSAPP, TELEGRAM, WEBCHAT, REST = (
    "twilio_sms", "twilio_whatsapp", "telegram", "socketio", "rest")
WHATSAPP_PREFIX, TELEGRAM_PREFIX, WEBCHAT_PREFIX = "whatsapp:", "telegram:", "web:"
_SHAPES = {
    SMS: re.compile(r"\+[0-9]{4,20}"),
    WHATSAPP: re.compile(r"whatsapp:\+[0-9]{4,20}"),
    TELEGRAM: re.compile(r"telegram:-?[0-9]{1,20}"),
    WEBCHAT: re.compile(r"web:[0-9a-f]{32}"),
}
# An id starting like one of these belongs to that channel even when it is malformed.
_RESERVED = ((WHATSAPP, WHATSAPP_PREFIX), (TELEGRAM, TELEGRAM_PREFIX),
             (WEBCHAT, WEBCHAT_PREFIX), (SMS, "+"))


def is_valid(conversation_id: object) -> bool:
    return isinstance(conversation_id, str) and _ID.fullmatch(conversation_id) is not None


def channel_of(conversation_id: str) -> str:
    """The channel that owns this id (REST owns every id no other channel claims)."""
    lowered = conversation_id.lower()
    for channel, prefix in _RESERVED:
        if lowered.startswith(prefix):
            return channel
    return REST


def belongs_to(conversation_id: object, channel: str) -> bool:
    """A well-formed id of this channel's own namespace."""
    if not is_valid(conversation_id) or channel_of(conversation_id) != channel:
        return False
    shape = _SHAPES.get(channel)
    return shape is None or shape.fullmatch(conversation_id) is not None


def customer_key(conversation_id: str) -> str:
    """One customer across channels where an id says who they are: `phone:+221…` for SMS and
    WhatsApp of one number alike; `id:<conversation id>` for the others."""
    if belongs_to(conversation_id, WHATSAPP):
        return f"phone:{conversation_id[len(WHATSAPP_PREFIX):]}"
    if belongs_to(conversation_id, SMS):
        return f"phone:{conversation_id}"
    return f"id:{conversation_id}"


def new_webchat_id() -> str:
    """An unguessable web-chat conversation id (128 random bits)."""
    return f"{WEBCHAT_PREFIX}{secrets.token_hex(16)}"


def refusal(conversation_id: object, channel: str) -> str | None:
    """Why this channel may not use this id, or None if it may."""
    if not is_valid(conversation_id):
        return (f"a conversation id is 1 to {MAX_ID_CHARS} letters, digits or any of "
                f"_ . : + @ -")
    owner = channel_of(conversation_id)
    if owner != channel:
        return f"ids like {conversation_id[:12]!r} belong to the {owner} channel"
    if not belongs_to(conversation_id, channel):
        return f"not a well-formed {channel} conversation id"
    return None
