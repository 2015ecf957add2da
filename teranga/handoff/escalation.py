"""Building an escalation record from a conversation, so that the agent sees everything the
bot saw and never asks the customer to repeat."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from teranga.conversation_ids import SMS, WHATSAPP
from teranga.handoff.availability import Availability
from teranga.handoff.ownership import BOT, QUEUED
from teranga.handoff.queue import Escalation
from teranga.handoff.repeated_fallbacks import FALLBACK_INTENT
from teranga.languages import default_language

if TYPE_CHECKING:
    from teranga.handoff.store import HandoffStore

LAST_MESSAGES = 10
TOP_INTENTS = 3
PHONE_CHANNELS = (SMS, WHATSAPP)  # where the customer has a number to call back


def from_tracker(tracker: dict, reasons: list[str],
                 kb_candidates: Callable[[str, str], list[dict]],
                 skill_for: Callable[[list[str | None]], str | None] = lambda intents: None,
                 ) -> Escalation:
    """`tracker` is the tracker as Rasa sends it to the action server (a dict);
    `skill_for` names the skill the customer's intents (newest first) call for."""
    latest = tracker.get("latest_message") or {}
    slots = tracker.get("slots") or {}
    language = slots.get("language") or default_language()
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


@dataclass(frozen=True)
class HandoffReply:
    """What the customer is told on joining the queue: a response name, its variables, and
    whether a callback was offered."""

    response: str
    variables: dict
    callback_offered: bool


async def escalate(store: HandoffStore, tracker: dict, reasons: list[str],
                   kb_candidates: Callable[[str, str], list[dict]] = lambda text, language: [],
                   ) -> Availability:
    """Put the conversation in the agents' queue with everything the bot knows, and say what
    the customer can expect. Published even when already queued: each escalation's reasons
    and context count. If publishing fails, a conversation queued by this call goes back to
    the bot: without a record in the queue, no agent would ever see it."""
    record = from_tracker(tracker, reasons, kb_candidates, store.settings.get().skill_for)
    newly_queued = await store.ownership.escalate(record.conversation_id)
    try:
        await store.queue.publish(record)
    except Exception:
        if newly_queued:
            await store.ownership.change(record.conversation_id, QUEUED, BOT)
        raise
    return await store.availability(record.language, record.conversation_id)


def handoff_reply(outlook: Availability, channel: str | None) -> HandoffReply:
    """A person soon; or, closed or nobody free, when. A callback needs a number to call, so
    it is offered on SMS and WhatsApp only; elsewhere an agent will answer where they write."""
    callback = outlook.agents == 0 and channel in PHONE_CHANNELS
    suffix = "" if callback else "_here"
    if not outlook.open_now:
        opens = outlook.opens_at.strftime("%d/%m %H:%M") if outlook.opens_at else "?"
        return HandoffReply(f"utter_handoff_closed{suffix}", {"opens_at": opens}, callback)
    if outlook.agents == 0:
        return HandoffReply(f"utter_handoff_no_agent{suffix}", {}, callback)
    return HandoffReply("utter_handoff_coming", {"wait_minutes": outlook.wait_minutes}, False)
