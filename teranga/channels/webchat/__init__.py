"""The web chat's shared logic and its static files (the widget and the demo page)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from teranga.channels.inbound import SENDER_ID, prepare_text

STATIC = Path(__file__).parent


def session_id_of(data: Any) -> str | None:
    """The session id a widget sends, if it is one the assistant can use as a conversation
    id (Rasa widgets send {"session_id": ...})."""
    session_id = data.get("session_id") if isinstance(data, dict) else None
    return session_id if isinstance(session_id, str) and SENDER_ID.match(session_id) else None


def read_user_message(data: Any, max_chars: int) -> tuple[str, str, dict] | None:
    """(text, session id, metadata) of a widget's `user_uttered`, or None without a valid
    session id; the text is cleaned like every channel's."""
    session_id = session_id_of(data)
    if session_id is None:
        return None
    raw = data.get("message")
    text, notes = prepare_text(raw if isinstance(raw, str) else "", max_chars)
    metadata = data.get("metadata") or {}
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except json.JSONDecodeError:
            metadata = {}
    metadata = {k: v for k, v in metadata.items() if k != "teranga"} \
        if isinstance(metadata, dict) else {}
    if notes:
        metadata["teranga"] = notes
    return text, session_id, metadata
