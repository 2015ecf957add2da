"""What every channel does to a message before sending it: fit it to the channel's limits,
cutting at sentence boundaries, and turn buttons into what the channel can show.

SMS is counted in segments: 160 characters of the GSM 03.38 alphabet (where ^{}[]~|€ and \\
take two), or 70 UTF-16 code units as soon as one character falls outside it (an accented
capital, a Hausa hooked letter, an emoji). A longer SMS is sent as several single-segment
messages, each readable on its own, rather than relying on handsets to reassemble parts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENSION = set("^{}\\[~]|€\f")
SMS_GSM7_CHARS = 160
SMS_UCS2_UNITS = 70
LONG_TEXT_LIMIT = 4096  # WhatsApp and Telegram

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\s*\n\s*")


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def sms_length(text: str) -> tuple[int, int]:
    """(length as the SMS network counts it, the limit of one segment) for this text."""
    if is_gsm7(text):
        return sum(2 if c in GSM7_EXTENSION else 1 for c in text), SMS_GSM7_CHARS
    return len(text.encode("utf-16-le")) // 2, SMS_UCS2_UNITS


def fits_sms(text: str) -> bool:
    length, limit = sms_length(text)
    return length <= limit


def split_text(text: str, fits) -> list[str]:
    """Parts that each satisfy `fits`, cut after sentences (or line breaks), else between
    words, else anywhere; nothing is lost but the whitespace at the cuts."""
    text = text.strip()
    if not text or fits(text):
        return [text] if text else []
    parts: list[str] = []
    current = ""
    for piece, separator in _pieces(text, fits):
        candidate = f"{current}{separator}{piece}" if current else piece
        if fits(candidate):
            current = candidate
        else:
            parts.append(current)
            current = piece
    parts.append(current)
    return [p for p in parts if p]


def _pieces(text: str, fits) -> list[tuple[str, str]]:
    """(piece, the separator before it): sentences, themselves cut into words or characters
    when one alone is too long. A line break stays a line break."""
    pieces: list[tuple[str, str]] = []
    tokens = _SENTENCE_END.split(text)
    separators = [m.group(0) for m in _SENTENCE_END.finditer(text)]
    for sentence, before in zip(tokens, [""] + separators, strict=True):
        before = "\n" if "\n" in before else " "
        if fits(sentence):
            pieces.append((sentence, before))
            continue
        for number, word in enumerate(sentence.split()):
            separator = before if number == 0 else " "
            while not fits(word):  # a word longer than a whole message: cut it
                cut = max(i for i in range(1, len(word) + 1) if fits(word[:i]))
                pieces.append((word[:cut], separator))
                word, separator = word[cut:], ""
            pieces.append((word, separator))
    return pieces


def split_for_sms(text: str) -> list[str]:
    return split_text(text, fits_sms)


def split_long(text: str, limit: int = LONG_TEXT_LIMIT) -> list[str]:
    return split_text(text, lambda part: len(part) <= limit)


@dataclass(frozen=True)
class Option:
    title: str
    payload: str


def numbered(text: str, options: list[Option]) -> str:
    """Buttons as numbered lines, for channels without buttons (SMS): "1. Oui"."""
    lines = [f"{index}. {option.title}" for index, option in enumerate(options, start=1)]
    return "\n".join([text, *lines]) if text else "\n".join(lines)


def chosen_option(reply: str, options: list[Option]) -> Option | None:
    """The option a customer's "2" (or "2." or " 2 ") picks, if it is one."""
    match = re.fullmatch(r"\s*(\d{1,2})\s*[.)]?\s*", reply)
    if not match or not options:
        return None
    index = int(match.group(1))
    return options[index - 1] if 1 <= index <= len(options) else None
