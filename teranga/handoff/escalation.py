"""Building an escalation record from a conversation, so that the agent sees everything the
bot saw and never asks the customer to repeat."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from teranga.conversation_ids import SMS, WHATSAPP
from teranga.handoff.availability import (
    ALL_BUSY,
    CLOSED,
    NO_SPEAKER,
    NOBODY_ON_DUTY,
    Availability,
    availability,
)
from teranga.handoff.ownership import BOT, QUEUED
from teranga.handoff.queue import Escalation
from teranga.handoff.repeated_fallbacks import classifier_ranking
from teranga.handoff.triggers import CALLBACK_REQUESTED, DOCUMENT, REASONS, VOICE_NOTE
from teranga.languages import default_language
from teranga.observability import metrics

if TYPE_CHECKING:
    from teranga.handoff.store import HandoffStore

LAST_MESSAGES = 10
KNOWN_REASONS = (*REASONS, CALLBACK_REQUESTED, VOICE_NOTE, DOCUMENT)
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
               for i in classifier_ranking(latest)]
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
    """What the customer is told about the queue: a response name, its variables, and
    whether a callback was offered."""

    response: str
    variables: dict
    callback_offered: bool = False


async def escalate(store: HandoffStore, tracker: dict, reasons: list[str],
                   kb_candidates: Callable[[str, str], list[dict]] = lambda text, language: [],
                   ) -> Availability:
    """Put the conversation in the agents' queue with everything the bot knows, and say what
    the customer can expect."""
    outlook, _ = await join_queue(store, tracker, reasons, kb_candidates)
    return outlook


async def join_queue(store: HandoffStore, tracker: dict, reasons: list[str],
                     kb_candidates: Callable[[str, str], list[dict]] = lambda text, language: [],
                     ) -> tuple[Availability, bool]:
    """`escalate`, and whether this call queued the conversation (False: it was waiting
    already). Published even when already queued: each escalation's reasons and context
    count. If publishing fails, a conversation queued by this call goes back to the bot:
    without a record in the queue, no agent would ever see it."""
    record = from_tracker(tracker, reasons, kb_candidates, store.settings.get().skill_for)
    newly_queued = await store.ownership.escalate(record.conversation_id)
    try:
        await store.queue.publish(record)
    except Exception:
        if newly_queued:
            await store.ownership.change(record.conversation_id, QUEUED, BOT)
        raise
    if newly_queued:
        metrics.handed_over(record.reasons, KNOWN_REASONS)
    outlook = await queue_outlook(store, record.conversation_id, record.language)
    return outlook or await store.availability(record.language, record.conversation_id), \
        newly_queued


async def queue_outlook(store: HandoffStore, conversation_id: str,
                        language: str) -> Availability | None:
    """Where a waiting conversation stands now: its place among the conversations of its
    language queued before it, and when someone can come. None if it is not queued (an
    agent holds it, or it is back with the bot)."""
    queued = await store.ownership.queued()
    if conversation_id not in queued:
        return None
    mine = (queued[conversation_id], conversation_id)  # the id breaks a tie in time
    earlier = await store.records.get_many([c for c, at in queued.items() if (at, c) < mine])
    ahead = sum(r.language == language for r in earlier.values())
    agents = store.agents()
    load = await store.ownership.load(agents)
    return availability(language, store.settings.get(), agents.values(),
                        await store.presence.available(), load, ahead)


def handoff_reply(outlook: Availability, channel: str | None) -> HandoffReply:
    """On joining the queue: a person soon; all busy, the place and the wait; closed, when it
    opens; or the truth about why nobody can come (away, or no agent of the language). A
    callback needs a number to call, so it is offered on SMS and WhatsApp only, when nobody
    can come; elsewhere an agent will answer where they write."""
    callback = outlook.nobody_can_come and channel in PHONE_CHANNELS
    suffix = "" if callback else "_here"
    if outlook.situation == CLOSED:
        return HandoffReply(f"utter_handoff_closed{suffix}",
                            {"opens_at": _opening(outlook)}, callback)
    if outlook.situation == NOBODY_ON_DUTY:
        return HandoffReply(f"utter_handoff_no_agent{suffix}", {}, callback)
    if outlook.situation == NO_SPEAKER:
        return HandoffReply(f"utter_handoff_no_speaker{suffix}", {}, callback)
    if outlook.situation == ALL_BUSY:
        return HandoffReply("utter_handoff_busy", {"position": outlook.position,
                                                   "wait_minutes": outlook.wait_minutes})
    return HandoffReply("utter_handoff_coming", {"wait_minutes": outlook.wait_minutes})


STILL_WAITING = "utter_queue_unchanged"


def queue_update(outlook: Availability,
                 told_before: str | None) -> tuple[HandoffReply, str | None]:
    """What a waiting customer who writes again is told: their place, and when someone can
    come (or why nobody can). When nothing changed since they were last told, a shorter
    line, and never the same text twice in a row. Returns the reply and its `told_mark`."""
    previous_news, _, previous_response = (told_before or "").rpartition("|")
    reply = _position_reply(outlook)
    if _news(outlook) == previous_news and previous_response != STILL_WAITING:
        reply = HandoffReply(STILL_WAITING, {"position": outlook.position})
    return reply, told_mark(outlook, reply)


def told_mark(outlook: Availability, reply: HandoffReply) -> str | None:
    """What the customer was told, kept in a slot to compare with the next time; None for a
    reply that did not give their place (the next update then gives it in full)."""
    if "position" not in reply.variables:
        return None
    return f"{_news(outlook)}|{reply.response}"


def _news(outlook: Availability) -> str:
    opens = _opening(outlook) if outlook.situation == CLOSED else ""
    return f"{outlook.situation}|{outlook.position}|{outlook.wait_minutes}|{opens}"


def _position_reply(outlook: Availability) -> HandoffReply:
    position = {"position": outlook.position}
    if outlook.situation == CLOSED:
        return HandoffReply("utter_queue_position_closed",
                            {**position, "opens_at": _opening(outlook)})
    if outlook.situation == NOBODY_ON_DUTY:
        return HandoffReply("utter_queue_position_away", position)
    if outlook.situation == NO_SPEAKER:
        return HandoffReply("utter_queue_position_no_speaker", position)
    return HandoffReply("utter_queue_position",
                        {**position, "wait_minutes": outlook.wait_minutes})


def _opening(outlook: Availability) -> str:
    return outlook.opens_at.strftime("%d/%m %H:%M") if outlook.opens_at else "?"
