"""The stream of conversation news the desk follows: every message of every conversation,
as Rasa stores it, published by the event broker (addons/event_broker.py). The tracker stays
the record; this stream only carries news (capped, best effort)."""

from __future__ import annotations

from typing import Any

from teranga import redis_keys

EVENTS_STREAM = redis_keys.EVENTS
STREAM_LENGTH = 100_000
# Events the desk shows; the rest (actions, slots) stay in the tracker only.
SHOWN = {"user", "bot", "pause", "resume"}


def desk_view(event: dict[str, Any]) -> dict[str, Any] | None:
    """What the desk needs of a tracker event, or None if it does not show it."""
    if event.get("event") not in SHOWN:
        return None
    parse, metadata = event.get("parse_data") or {}, event.get("metadata") or {}
    view = {"conversation_id": event.get("sender_id"), "event": event["event"],
            "text": event.get("text"), "at": event.get("timestamp"),
            "agent": metadata.get("agent"), "agent_name": metadata.get("agent_name"),
            # the desk's own words to the customer ("Awa has joined"), not the agent's typing
            "notice": metadata.get("teranga_notice")}
    if event["event"] == "user":
        view.update(channel=event.get("input_channel"),
                    intent=(parse.get("intent") or {}).get("name"),
                    sentiment=parse.get("sentiment"),
                    language=next((e.get("value") for e in parse.get("entities") or []
                                   if e.get("entity") == "language"), None))
    return view
