"""Who is asked about: the conversation ids of one customer, and how their data is recognised
in keys and values."""

from __future__ import annotations

import re
from dataclasses import dataclass

from teranga.conversation_ids import (
    REST,
    SMS,
    WHATSAPP,
    WHATSAPP_PREFIX,
    belongs_to,
    channel_of,
    customer_key,
    is_valid,
)

# What people type around a phone number: "+221 77 123 45 67", "(+254) 712-345-678".
_PHONE_TYPED = re.compile(r"(\+|00)[0-9 ().-]{6,40}")
_MIN_PHONE_DIGITS, _MAX_PHONE_DIGITS = 6, 20
# Characters that may sit inside a conversation id: a mention must not touch them, so that
# erasing `+22177` never matches `+221771234567`, nor the REST id `ana` the word `banana`.
_ID_CHARS = r"A-Za-z0-9_.@+\-"


@dataclass(frozen=True)
class Customer:
    """`conversation_ids` are what the channels know them by; `phone` (`+<digits>`) is set
    for an SMS or WhatsApp customer; `history_keys` are their desk-history key parts."""

    conversation_ids: tuple[str, ...]
    phone: str | None = None

    @property
    def label(self) -> str:
        return self.phone or self.conversation_ids[0]

    @property
    def history_keys(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(customer_key(cid) for cid in self.conversation_ids))

    @property
    def identifiers(self) -> frozenset[str]:
        """Every string that stands for this customer in a stored field (exact match)."""
        return frozenset(self.conversation_ids) | frozenset(self.history_keys)

    def mention_pattern(self) -> re.Pattern[bytes]:
        """A mention anywhere (a key, a message, a JSON document): the conversation ids, and
        for a phone customer the number's digits however they are prefixed."""
        if self.phone:
            return re.compile(rf"(?<![0-9]){self.phone[1:]}(?![0-9])".encode())
        ids = "|".join(re.escape(cid) for cid in self.conversation_ids)
        return re.compile(rf"(?<![{_ID_CHARS}])(?:{ids})(?![{_ID_CHARS}])".encode())


def phone_customer(digits: str) -> Customer:
    phone = f"+{digits}"
    return Customer((phone, WHATSAPP_PREFIX + phone), phone)


def customer_of(asked: str) -> Customer:
    """The customer named by a conversation id or a phone number in international form.
    An SMS or WhatsApp id stands for its phone number (both channels are one person).
    ValueError for anything else."""
    if not isinstance(asked, str) or not asked.strip() or len(asked) > 200:
        raise ValueError("name a conversation id or a phone number (+221 77 123 45 67)")
    asked = asked.strip()
    channel = channel_of(asked)
    if channel == WHATSAPP and belongs_to(asked, WHATSAPP):
        return phone_customer(asked[len(WHATSAPP_PREFIX) + 1:])
    if channel == SMS and belongs_to(asked, SMS):
        return phone_customer(asked[1:])
    if _PHONE_TYPED.fullmatch(asked):
        digits = re.sub(r"[^0-9]", "", asked)
        digits = digits[2:] if asked.startswith("00") else digits
        if _MIN_PHONE_DIGITS <= len(digits) <= _MAX_PHONE_DIGITS:
            return phone_customer(digits)
    if is_valid(asked) and channel != SMS and (channel == REST or belongs_to(asked, channel)):
        return Customer((asked,))
    raise ValueError(f"not a conversation id nor a phone number in international form: "
                     f"{asked[:80]!r}")
