"""Validation and clean-up of what customers and clients send, before Rasa sees it.

Every channel hands its raw input here, so bad input gets the same treatment everywhere:
a 4xx with a clear reason for a malformed request, a graceful reply for an odd message.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from teranga.nlu.text import clean_message

logger = logging.getLogger(__name__)

# Rasa's syntax for a message that names its intent; the domain answers it with a prompt.
EMPTY_MESSAGE = "/empty_message"
# What a channel sends Rasa for attachments without text: the domain's rule answers it.
MEDIA_MESSAGE = "/media_received"
MAX_SENDER_CHARS = 128
# A conversation id must be usable as is in Rasa's HTTP API paths, which Sanic does not
# percent-decode: the desk could not reach a conversation whose id needs escaping.
SENDER_ID = re.compile(rf"^[A-Za-z0-9_.:+@-]{{1,{MAX_SENDER_CHARS}}}$")
MAX_BODY_BYTES = 1_000_000


class InboundError(ValueError):
    """A request that cannot be accepted; `status` is the HTTP status to answer with."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Inbound:
    sender: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


def prepare_text(raw: str, max_chars: int) -> tuple[str, dict[str, Any]]:
    """The text Rasa parses, and what the clean-up did, for the tracker's metadata.

    An empty message becomes Rasa's intent syntax for `empty_message`. A message longer
    than `max_chars` is cut at a word boundary for the NLU; the whole text is kept in the
    metadata, so nothing the customer wrote is lost.
    """
    text = clean_message(raw)
    notes: dict[str, Any] = {}
    if text != raw:
        notes["cleaned"] = True
    if not text:
        return EMPTY_MESSAGE, {**notes, "empty": True}
    if text.startswith("/") and text != EMPTY_MESSAGE:
        # Rasa would read "/restart" or "/greet" as a command; customers' text is text.
        text = "\u2215" + text[1:]
        notes["slash_escaped"] = True
    if len(text) > max_chars:
        cut = text[:max_chars].rsplit(" ", 1)[0] or text[:max_chars]
        notes.update(truncated=True, original_length=len(text), full_text=text)
        text = cut
    return text, notes


def media_kind(attachment: dict) -> str:
    """"voice_note", "document", "image", "video", "location" or "other"."""
    if "location" in attachment:
        return "location"
    content_type = (attachment.get("content_type") or "").lower()
    if content_type.startswith("audio/"):
        return "voice_note"
    if content_type.startswith(("image/", "video/")):
        return content_type.split("/")[0]
    if content_type.startswith(("application/", "text/")):
        return "document"
    return "other"


def parse_rest_body(body: bytes, max_chars: int) -> Inbound:
    """A REST channel request: `{"sender": str, "message": str, "metadata": {...}}`."""
    if len(body) > MAX_BODY_BYTES:
        raise InboundError(f"request body over {MAX_BODY_BYTES} bytes", status=413)
    try:
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise InboundError(f"the body is not valid UTF-8 (byte {error.start})") from error
    except json.JSONDecodeError as error:
        raise InboundError(f"the body is not valid JSON: {error.msg} at line {error.lineno} "
                           f"column {error.colno}") from error
    if not isinstance(payload, dict):
        raise InboundError('the body must be a JSON object: {"sender": "...", "message": "..."}')
    sender = payload.get("sender")
    if not isinstance(sender, str) or not SENDER_ID.match(sender.strip()):
        raise InboundError(f'"sender" must be 1 to {MAX_SENDER_CHARS} letters, digits or '
                           f"any of _ . : + @ -")
    message = payload.get("message", "")
    if message is None:
        message = ""
    if not isinstance(message, str):
        raise InboundError('"message" must be a string')
    metadata = payload.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise InboundError('"metadata" must be a JSON object')
    text, notes = prepare_text(message, max_chars)
    # The "teranga" key is the channel's record of what it did; a client cannot write it.
    metadata = {key: value for key, value in metadata.items() if key != "teranga"}
    if notes:
        logger.info("Inbound message from %s adjusted: %s", sender,
                    {k: v for k, v in notes.items() if k != "full_text"})
        metadata["teranga"] = notes
    return Inbound(sender=sender.strip(), text=text, metadata=metadata)
