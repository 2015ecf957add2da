"""The web chat's shared logic and its static files (the widget and the demo page).

Web-chat conversation ids are issued by the server (`web:` and 128 random bits) and kept in
Redis, so a widget coming back after a reload resumes its conversation, while an id the
server never issued, or one of another channel, gets a new conversation instead.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from teranga.channels import conversation_ids
from teranga.channels.inbound import (
    InboundError,
    client_metadata,
    parse_json_object,
    prepare_text,
)

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent
SESSION_DAYS = 90  # a visitor who comes back within this finds their conversation


def requested_session_id(data: Any) -> str | None:
    """The session id a widget asks to resume (Rasa widgets send {"session_id": ...})."""
    session_id = data.get("session_id") if isinstance(data, dict) else None
    return session_id if conversation_ids.belongs_to(session_id, conversation_ids.WEBCHAT) \
        else None


class WebChatSessions:
    """The web-chat ids this assistant issued."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client

    @staticmethod
    def _key(session_id: str) -> str:
        return f"teranga:webchat:session:{session_id}"

    async def resume_or_issue(self, requested: str | None) -> str:
        """The requested session if this server issued it, else a new one."""
        ttl = SESSION_DAYS * 86400
        if requested and await self.client.expire(self._key(requested), ttl):
            return requested
        session_id = conversation_ids.new_webchat_id()
        try:
            await self.client.set(self._key(session_id), 1, ex=ttl)
        except RedisError:  # the conversation works; only a later resume will not
            logger.exception("Could not record web-chat session %s", session_id)
        return session_id


def read_user_message(data: Any, max_chars: int) -> tuple[str, dict]:
    """(text, metadata) of a widget's `user_uttered`, cleaned like every channel's input."""
    if not isinstance(data, dict):
        raise InboundError("a user_uttered event carries a JSON object")
    raw = data.get("message")
    text, notes = prepare_text(raw if isinstance(raw, str) else "", max_chars)
    metadata = _client_metadata(data.get("metadata") or data.get("customData") or {})
    if notes:
        metadata["teranga"] = notes
    return text, metadata


def _client_metadata(metadata: Any) -> dict:
    """What the widget attached, as every channel accepts it; some widgets send a JSON
    string. Anything else is dropped: the message itself is fine, so it is kept."""
    try:
        if isinstance(metadata, str):
            metadata = parse_json_object(metadata.encode("utf-8", "surrogatepass"), "{...}")
        return client_metadata(metadata if isinstance(metadata, dict) else {})
    except InboundError:
        return {}
