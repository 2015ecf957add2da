"""Building an escalation record from a conversation, so that the agent sees everything the
bot saw and never asks the customer to repeat."""

from __future__ import annotations

from collections.abc import Callable

from teranga.dialogue.fallback import FALLBACK_INTENT
from teranga.handoff.queue import Escalation

LAST_MESSAGES = 10
TOP_INTENTS = 3


def from_tracker(tracker: dict, reasons: list[str],
                 kb_candidates: Callable[[str, str], list[dict]],
                 skill_for: Callable[[list[str | None]], str | None] = lambda intents: None,
                 ) -> Escalation:
    """`tracker` is the tracker as Rasa sends it to the action server (a dict);
    `skill_for` names the skill the customer's intents (newest first) call for."""
    latest = tracker.get("latest_message") or {}
    slots = tracker.get("slots") or {}
    language = slots.get("language") or "fr"
    ranking = [{"name": i.get("name"), "confidence": round(float(i.get("confidence", 0)), 3)}
               for i in latest.get("intent_ranking") or [] if i.get("name") != FALLBACK_INTENT]
    return Escalation(
        conversation_id=tracker["sender_id"],
        channel=_latest_channel(tracker) or "unknown",
        customer=tracker["sender_id"],
        language=language,
        reasons=list(reasons),
        sentiment=latest.get("sentiment") or {},
        last_messages=_last_messages(tracker.get("events") or []),
        top_intents=ranking[:TOP_INTENTS],
        kb_candidates=kb_candidates(latest.get("text") or "", language),
        skill=skill_for(_user_intents_newest_first(tracker.get("events") or [])),
    )


def _user_intents_newest_first(events: list[dict]) -> list[str | None]:
    return [((e.get("parse_data") or {}).get("intent") or {}).get("name")
            for e in reversed(events) if e.get("event") == "user"]


def _latest_channel(tracker: dict) -> str | None:
    for event in reversed(tracker.get("events") or []):
        if event.get("event") == "user" and event.get("input_channel"):
            return event["input_channel"]
    return None


def _last_messages(events: list[dict]) -> list[dict]:
    said = [{"from": "customer" if e["event"] == "user" else "bot", "text": e.get("text"),
             "at": e.get("timestamp")}
            for e in events if e.get("event") in ("user", "bot") and e.get("text")]
    return said[-LAST_MESSAGES:]
