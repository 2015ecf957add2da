"""How the desk shows a conversation: a line of a queue (its summary), the routing order of
the waiting ones, and the transcript an agent reads."""

from __future__ import annotations

import time

from teranga.channels.delivery_status import message_key
from teranga.handoff.availability import DeskSettings
from teranga.handoff.ownership import Owner
from teranga.handoff.records import ConversationRecord
from teranga.handoff.routing import Waiting, queue_order
from teranga.handoff.triggers import CALLBACK_REQUESTED


def summary(record: ConversationRecord, owner: Owner, now: float,
            settings: DeskSettings) -> dict:
    escalation = record.escalation
    customer_lines = [m for m in escalation.last_messages if m.get("from") == "customer"]
    return {
        "conversation_id": record.conversation_id, "language": record.language,
        "channel": escalation.channel, "reasons": escalation.reasons,
        "skill": escalation.skill,
        "sentiment": escalation.sentiment, "owner": str(owner),
        "assigned_to": owner.agent_id,
        "waiting_seconds": round(now - escalation.created_at),
        "answered": record.answered_at is not None,
        "preview": (customer_lines[-1].get("text") or "")[:140] if customer_lines else "",
        "callback": CALLBACK_REQUESTED in escalation.reasons,
        "requeues": record.requeues,
        "overdue": overdue(record, owner, now, settings.response_target_seconds)}


def overdue(record: ConversationRecord, owner: Owner, now: float, target: float) -> bool:
    """Waiting, or with an agent who has not answered yet, beyond the response target."""
    late = now - record.escalation.created_at > target
    return late and (owner.is_queued or (owner.is_agent and record.answered_at is None))


def waiting_in_order(records, skill_wait_seconds: float,
                     now: float | None = None) -> list[Waiting]:
    """Waiting conversations in routing order. A skill is required only for
    `skill_wait_seconds`: after that, any agent of the language beats a longer wait."""
    now = time.time() if now is None else now
    return queue_order(
        Waiting(r.conversation_id, r.language, tuple(r.escalation.reasons),
                r.escalation.created_at,
                skill=r.escalation.skill
                if now - r.escalation.created_at < skill_wait_seconds else None)
        for r in records)


def is_external(text: str, parse: dict) -> bool:
    """A user event made by `trigger_intent` (such as the desk's hand-back), not typed."""
    intent = (parse.get("intent") or {}).get("name")
    return bool(intent) and text == f"EXTERNAL: {intent}"


def transcript(events: list[dict], delivery: dict[str, str] | None = None) -> list[dict]:
    """The conversation as the agent reads it: customer, bot, agents and hand-overs."""
    lines = []
    for event in events:
        kind, metadata = event.get("event"), event.get("metadata") or {}
        text = event.get("text")
        parse = event.get("parse_data") or {}
        if kind == "user" and text and not is_external(text, parse):
            lines.append({"from": "customer", "text": text, "at": event.get("timestamp"),
                          "intent": (parse.get("intent") or {}).get("name"),
                          "sentiment": parse.get("sentiment")})
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
