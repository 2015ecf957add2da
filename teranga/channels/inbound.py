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

from teranga import conversation_ids
from teranga.privacy.secrets import remove_secret_mentions
from teranga.text import clean_message, replace_surrogates

logger = logging.getLogger(__name__)

# Rasa's syntax for a message that names its intent; the domain answers it with a prompt.
EMPTY_MESSAGE = "/empty_message"
# What a channel sends Rasa for attachments without text: the domain's rule answers it.
MEDIA_MESSAGE = "/media_received"
MAX_BODY_BYTES = 1_000_000
# Metadata is stored with every message: a client may attach a little, not a database.
MAX_METADATA_BYTES = 16_000
MAX_METADATA_DEPTH = 8
MAX_JSON_DEPTH = 32
# In metadata["teranga"]: the kinds of secret removed from the message (never their values).
SECRETS_REMOVED = "secrets_removed"
# ...because the message before named it (teranga/channels/secret_context.py).
SENT_AFTER_ITS_NAME = "secret_sent_after_its_name"


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
    message_id: str | None = None  # the client's, to take a message sent twice once (REST)


def prepare_text(raw: str, max_chars: int,
                 client_intents: frozenset[str] = frozenset()) -> tuple[str, dict[str, Any]]:
    """The text Rasa parses, and what the clean-up did, for the tracker's metadata.

    Secrets (a PIN, a password), with the words that name them, are replaced by `••••`
    before anything else, and noted as `secrets_removed`. An empty message becomes Rasa's
    intent syntax for `empty_message`. A message longer than `max_chars` is cut at a word
    boundary for the NLU; the whole text is kept in the metadata, so nothing the customer
    wrote is lost. A message in Rasa's intent syntax (`/greet`, `/greet{"entity": "value"}`:
    a widget's initial payload, a button's) stays one only for the intents of
    `client_intents`, the channel's configured list, and without its entities; any other
    leading slash is escaped, so that Rasa reads the message as text.
    """
    text = clean_message(without_lone_surrogates(raw))
    notes: dict[str, Any] = {}
    if text != raw:
        notes["cleaned"] = True
    # First of all: a PIN or password removed here is in no queue, log, transcript or tracker;
    # with the words that name it, so that the rest of the message is what the NLU reads.
    text, secrets = remove_secret_mentions(text)
    if secrets:
        notes[SECRETS_REMOVED] = secrets
    if not text:
        return EMPTY_MESSAGE, {**notes, "empty": True}
    payload = intent_payload(text) if client_intents and len(text) <= max_chars else None
    if payload is not None and payload.intent in client_intents:
        # The intent only: entities would fill slots the assistant sets itself (language,
        # sentiment), so a client naming them is noted, not obeyed.
        dropped = {"entities_dropped": sorted(payload.entities)} if payload.entities else {}
        return f"/{payload.intent}", {**notes, "intent_payload": payload.intent, **dropped}
    if text.startswith("/") and text != EMPTY_MESSAGE:
        # Rasa would read "/restart" or "/greet" as a command; customers' text is text.
        text = "\u2215" + text[1:]
        notes["slash_escaped"] = True
    if len(text) > max_chars:
        cut = text[:max_chars].rsplit(" ", 1)[0] or text[:max_chars]
        notes.update(truncated=True, original_length=len(text), full_text=text)
        text = cut
    return text, notes


@dataclass(frozen=True)
class IntentPayload:
    """A message in Rasa's intent syntax: `/intent` or `/intent{"entity": "value", ...}`."""

    intent: str
    entities: dict[str, Any] = field(default_factory=dict)


_INTENT_PAYLOAD = re.compile(r"/(?P<intent>[A-Za-z0-9_][A-Za-z0-9_.-]{0,99})(?P<entities>\{.*\})?",
                             re.DOTALL)


def intent_payload(text: str) -> IntentPayload | None:
    """The intent and entities of a message in Rasa's intent syntax, or None for anything
    else: the entities must be one JSON object whose values are strings, numbers or
    booleans (Rasa's confidence suffix, `/intent@0.5`, is not taken from clients)."""
    match = _INTENT_PAYLOAD.fullmatch(text.strip())
    if match is None:
        return None
    entities: dict[str, Any] = {}
    if match.group("entities"):
        try:
            entities = json.loads(match.group("entities"))
        except (ValueError, RecursionError):
            return None
        if not isinstance(entities, dict) or not all(
                isinstance(name, str) and name and
                isinstance(value, str | int | float | bool) for name, value in entities.items()):
            return None
    return IntentPayload(match.group("intent"), entities)


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
    """A REST channel request: `{"sender": str, "message": str, "metadata": {...},
    "message_id": str}`; the message id is optional (a client that sends one may send a
    message again, after a failure, without a second turn)."""
    payload = parse_json_object(body, '{"sender": "...", "message": "..."}')
    sender = payload.get("sender")
    if isinstance(sender, str):
        sender = sender.strip()
    why = conversation_ids.refusal(sender, conversation_ids.REST)
    if why:
        status = 403 if conversation_ids.is_valid(sender) else 400
        raise InboundError(f'"sender": {why}', status=status)
    message = payload.get("message", "")
    if message is None:
        message = ""
    if not isinstance(message, str):
        raise InboundError('"message" must be a string')
    message_id = payload.get("message_id")
    if message_id is not None and not conversation_ids.is_valid(message_id):
        raise InboundError(f'"message_id": 1 to {conversation_ids.MAX_ID_CHARS} letters, '
                           f'digits or any of _ . : + @ -')
    metadata = client_metadata(payload.get("metadata"))
    text, notes = prepare_text(message, max_chars)
    if notes:
        logger.info("Inbound message from %s adjusted: %s", sender,
                    {k: v for k, v in notes.items() if k != "full_text"})
        metadata["teranga"] = notes
    return Inbound(sender=sender, text=text, metadata=metadata, message_id=message_id)


def parse_json_object(body: bytes, shape: str) -> dict:
    """A request body that must be one JSON object; any other bytes get a 4xx and a reason.
    Lone surrogates ("\\ud800", which no UTF-8 store accepts) become U+FFFD."""
    if len(body) > MAX_BODY_BYTES:
        raise InboundError(f"request body over {MAX_BODY_BYTES} bytes", status=413)
    try:
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise InboundError(f"the body is not valid UTF-8 (byte {error.start})") from error
    except json.JSONDecodeError as error:
        raise InboundError(f"the body is not valid JSON: {error.msg} at line {error.lineno} "
                           f"column {error.colno}") from error
    except RecursionError as error:
        raise InboundError("the body is nested too deeply") from error
    except ValueError as error:  # an integer of thousands of digits
        raise InboundError("a number in the body has too many digits") from error
    if not isinstance(payload, dict):
        raise InboundError(f"the body must be a JSON object: {shape}")
    if _depth(payload) > MAX_JSON_DEPTH:
        raise InboundError(f"the body is nested deeper than {MAX_JSON_DEPTH} levels")
    return without_lone_surrogates(payload)


def without_lone_surrogates(value: Any) -> Any:
    """`value` with every string's lone surrogates replaced by U+FFFD."""
    if isinstance(value, str):
        return replace_surrogates(value)
    if isinstance(value, list):
        return [without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {without_lone_surrogates(k): without_lone_surrogates(v) for k, v in value.items()}
    return value


def client_metadata(metadata: Any) -> dict[str, Any]:
    """What a client may attach to a message: a small JSON object, without the "teranga" key,
    which is the channel's own record of what it did."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise InboundError('"metadata" must be a JSON object')
    if _depth(metadata) > MAX_METADATA_DEPTH:
        raise InboundError(f'"metadata" is nested deeper than {MAX_METADATA_DEPTH} levels')
    metadata = without_lone_surrogates(metadata)
    if len(json.dumps(metadata, ensure_ascii=False).encode()) > MAX_METADATA_BYTES:
        raise InboundError(f'"metadata" is over {MAX_METADATA_BYTES} bytes')
    return {key: value for key, value in metadata.items() if key != "teranga"}


def _depth(value: Any) -> int:
    """How deeply lists and objects nest (iterative: the value may be nested ~1,000 deep)."""
    deepest, pending = 0, [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            pending.extend((child, depth) for child in
                           (item.values() if isinstance(item, dict) else item))
    return deepest
