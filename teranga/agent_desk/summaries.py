"""How the desk shows a conversation: a line of a queue (its summary), the priority order of
the waiting ones, the filters, search and counts of the list, and the transcript an agent
reads."""

from __future__ import annotations

import functools
import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from teranga.channels.delivery_status import message_key
from teranga.handoff.availability import DeskSettings
from teranga.handoff.ownership import Owner
from teranga.handoff.records import ConversationRecord
from teranga.handoff.routing import Waiting, queue_order
from teranga.handoff.triggers import CALLBACK_REQUESTED
from teranga.nlu.sentiment import NEGATIVE
from teranga.privacy.personal_data import mask

SHORT_ID_CHARS = 20
PREVIEW_CHARS = 140
# A number cut in two at the preview's end would escape masking: mask a little more first.
MASKED_BEYOND_PREVIEW = 40
MASKED_CACHE_SIZE = 4096
FACETS = ("language", "channel", "reason", "skill")


def short_id(conversation_id: str) -> str:
    """Long ids (web chats') shortened in the middle, so that a card stays one line."""
    if len(conversation_id) <= SHORT_ID_CHARS:
        return conversation_id
    head = (SHORT_ID_CHARS - 1) // 2
    return f"{conversation_id[:head]}…{conversation_id[-(SHORT_ID_CHARS - 1 - head):]}"


@functools.lru_cache(maxsize=MASKED_CACHE_SIZE)
def masked(text: str) -> str:
    """`text` with its personal data masked (teranga/privacy/personal_data.py). Cached: a
    message with digits costs milliseconds to check, and the same previews come back at
    every refresh of every open desk."""
    return mask(text)


def masked_preview(text: str) -> str:
    """The start of a message, masked, as a card shows it."""
    return masked(text[:PREVIEW_CHARS + MASKED_BEYOND_PREVIEW])[:PREVIEW_CHARS]


def masked_fact(fact: dict) -> dict:
    """A fact chip of the context's summary, masked. A phone number the detector does not
    recognise on its own (the facts' pattern is looser) still shows only its last two
    digits."""
    text = masked(fact["text"])
    if fact.get("kind") == "phone" and text == fact["text"]:
        text = re.sub(r"[0-9]", "•", text[:-2]) + text[-2:]
    return {**fact, "text": text}


def last_message(record: ConversationRecord, kept: dict | None) -> dict | None:
    """The newest message: as the desk last saw it go by, else the escalation's last."""
    if kept is None and record.escalation.last_messages:
        kept = record.escalation.last_messages[-1]
    if not kept or not isinstance(kept.get("text"), str):
        return None
    sender = kept.get("from") if kept.get("from") in ("customer", "bot", "agent") else "bot"
    return {"from": sender, "text": masked_preview(kept["text"]), "at": kept.get("at")}


def summary(record: ConversationRecord, owner: Owner, now: float, settings: DeskSettings,
            kept_message: dict | None = None, holder_name: str | None = None,
            priority: int | None = None, answer_due_at: float | None = None) -> dict:
    """`answer_due_at`: when the holder's time to answer runs out (store.answer_deadlines)."""
    escalation = record.escalation
    customer_lines = [m for m in escalation.last_messages if m.get("from") == "customer"]
    return {
        "conversation_id": record.conversation_id,
        "short_id": short_id(record.conversation_id), "language": record.language,
        "channel": escalation.channel, "reasons": escalation.reasons,
        "skill": escalation.skill,
        "sentiment": escalation.sentiment, "owner": str(owner),
        "assigned_to": owner.agent_id, "holder_name": holder_name,
        "priority": priority,
        "waiting_seconds": round(now - escalation.created_at),
        "answered": record.answered_at is not None,
        "answer_due_at": answer_due_at if owner.is_agent else None,
        "preview": masked_preview(str(customer_lines[-1].get("text") or ""))
        if customer_lines else "",
        "last_message": last_message(record, kept_message),
        "callback": CALLBACK_REQUESTED in escalation.reasons,
        "requeues": record.requeues,
        "overdue": overdue(record, owner, now, settings.response_target_seconds)}


def overdue(record: ConversationRecord, owner: Owner, now: float, target: float) -> bool:
    """Waiting, or with an agent who has not answered yet, beyond the response target."""
    late = now - record.escalation.created_at > target
    return late and (owner.is_queued or (owner.is_agent and record.answered_at is None))


def waiting_in_order(records, skill_wait_seconds: float,
                     now: float | None = None) -> list[Waiting]:
    """Waiting conversations in priority order (teranga/handoff/routing.py). A skill is
    required only for `skill_wait_seconds`: after that, any agent of the language beats a
    longer wait."""
    now = time.time() if now is None else now
    return queue_order(
        Waiting(r.conversation_id, r.language, tuple(r.escalation.reasons),
                r.escalation.created_at,
                skill=r.escalation.skill
                if now - r.escalation.created_at < skill_wait_seconds else None,
                upset=(r.escalation.sentiment or {}).get("label") == NEGATIVE)
        for r in records)


@dataclass(frozen=True)
class QueueFilter:
    """What an agent narrows the waiting list to: each filter an exact match; `text` found
    in the id, the phone number's digits or the messages, whatever the case."""

    language: str | None = None
    channel: str | None = None
    reason: str | None = None
    skill: str | None = None
    text: str | None = None

    def matches(self, line: dict) -> bool:
        return ((self.language is None or line["language"] == self.language)
                and (self.channel is None or line["channel"] == self.channel)
                and (self.reason is None or self.reason in line["reasons"])
                and (self.skill is None or line["skill"] == self.skill)
                and (not self.text or found(self.text, line)))


def found(query: str, line: dict) -> bool:
    query = query.casefold().strip()
    last = line.get("last_message") or {}
    texts = (line["conversation_id"], line["preview"], last.get("text") or "")
    if any(query in t.casefold() for t in texts):
        return True
    digits = re.sub(r"\D", "", query)  # "+221 77 123" finds whatsapp:+22177123...
    return len(digits) >= 3 and digits in re.sub(r"\D", "", line["conversation_id"])


def facets(lines: Iterable[dict]) -> dict[str, dict[str, int]]:
    """How many of these conversations have each language, channel, reason and skill."""
    counts = {name: Counter() for name in FACETS}
    for line in lines:
        counts["language"][line["language"]] += 1
        counts["channel"][line["channel"]] += 1
        counts["reason"].update(set(line["reasons"]))
        if line["skill"]:
            counts["skill"][line["skill"]] += 1
    return {name: dict(counter.most_common()) for name, counter in counts.items()}


def is_external(text: str, parse: dict) -> bool:
    """A user event made by `trigger_intent` (such as the desk's hand-back), not typed."""
    intent = (parse.get("intent") or {}).get("name")
    return bool(intent) and text == f"EXTERNAL: {intent}"


def masked_transcript(lines: list[dict]) -> list[dict]:
    """The transcript with personal data masked in every message: the bot and agents may
    have repeated the customer's number too."""
    return [{**line, "text": masked(line["text"])} if isinstance(line.get("text"), str)
            else line for line in lines]


def transcript(events: list[dict], delivery: dict[str, str] | None = None) -> list[dict]:
    """The conversation as the agent reads it, unmasked (the holder's reveal;
    `masked_transcript` for everyone else): customer, bot, agents and hand-overs."""
    lines = []
    for event in events:
        kind, metadata = event.get("event"), event.get("metadata") or {}
        text = event.get("text")
        parse = event.get("parse_data") or {}
        if kind == "user" and text and not is_external(text, parse):
            lines.append({"from": "customer", "text": text, "at": event.get("timestamp"),
                          "intent": (parse.get("intent") or {}).get("name"),
                          "sentiment": parse.get("sentiment")})
        elif kind == "bot" and text and metadata.get("teranga_notice"):
            # what the desk told the customer (an agent joined...): not the agent's typing
            lines.append({"from": "system", "notice": metadata["teranga_notice"],
                          "text": text, "at": event.get("timestamp"),
                          "delivery": (delivery or {}).get(message_key(event.get("timestamp")))})
        elif kind == "bot" and text:
            agent_id = metadata.get("agent")
            lines.append({"from": "agent" if agent_id else "bot", "agent": agent_id,
                          "name": metadata.get("agent_name") or agent_id, "text": text,
                          "at": event.get("timestamp"),
                          "delivery": (delivery or {}).get(message_key(event.get("timestamp")))})
        elif kind in ("pause", "resume"):
            lines.append({"from": "system", "at": event.get("timestamp"),
                          "text": "an agent took over" if kind == "pause"
                          else "back with the assistant"})
    return lines
