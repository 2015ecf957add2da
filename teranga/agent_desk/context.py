"""What an agent reads first when a conversation opens, so that nobody types it again: what
the customer wants, what the bot tried, why it handed over, and the facts the customer gave
(amounts, transaction ids, phone numbers, dates, USSD codes, places, operators, other
numbers: teranga.nlu.entities).

Computed offline from the escalation record and Rasa's tracker (its events carry the
intents). Customers' messages are hostile (any Unicode, any size): each is read through a
window of MAX_SCAN_CHARS, and every list is bounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from teranga.agent_desk.summaries import is_external
from teranga.handoff.records import ConversationRecord
from teranga.handoff.repeated_fallbacks import FALLBACK_INTENT
from teranga.handoff.triggers import (
    ACTION_ERROR,
    ASKED_FOR_PERSON,
    CALLBACK_REQUESTED,
    DOCUMENT,
    NEGATIVE_SENTIMENT,
    NOT_UNDERSTOOD,
    OUT_OF_SCOPE,
    REPEATED_FALLBACK,
    VOICE_NOTE,
    Thresholds,
)
from teranga.nlu.entities import MAX_FACTS, MAX_SCAN_CHARS, facts_in
from teranga.text import cut_at_word, encodable

MAX_EVENTS = 1000  # the newest tracker events read
MAX_CUSTOMER_MESSAGES = 30  # the newest customer messages searched for facts
# The most read for facts in one request: 6 messages of 2000 characters cost about 25 ms.
MAX_SCAN_TOTAL = 12_000
MAX_TRIED = 8
MAX_QUOTE_CHARS = 200
CONFIDENT = Thresholds().low_confidence  # below it, the bot did not understand

# The customer's request at a glance, by intent (domain/core.yml; data/nlu has examples).
INTENT_WANTS = {
    "check_balance": "Check their balance",
    "buy_data_bundle": "Buy a data bundle",
    "recharge_airtime": "Recharge airtime",
    "send_money": "Send money",
    "withdraw_cash": "Withdraw cash",
    "transfer_failed": "A money transfer that failed",
    "reset_pin": "Reset their PIN",
    "lost_or_stolen_sim": "Block a lost or stolen SIM",
    "sim_swap": "Swap or replace their SIM",
    "network_problem": "A network or connection problem",
    "unexpected_charge": "An unexpected charge on their account",
    "agency_hours_location": "An agency's opening hours or address",
    "complain": "Make a complaint",
    "request_human": "Talk to a person",
    "bot_challenge": "Know whether they are talking to a bot",
    "out_of_scope": "Something the assistant does not cover",
}
# Intents that say nothing of the request itself: never "what the customer wants".
NOT_A_REQUEST = frozenset({"greet", "goodbye", "thanks", "affirm", "deny", "empty_message",
                           "handed_back", "media_received", FALLBACK_INTENT})

REASON_WORDS = {
    ASKED_FOR_PERSON: "The customer asked for a person",
    NEGATIVE_SENTIMENT: "The customer is upset or complained",
    NOT_UNDERSTOOD: "The bot did not understand and the knowledge base had no answer",
    REPEATED_FALLBACK: "The bot failed to understand several times in a row",
    ACTION_ERROR: "One of the bot's actions failed",
    CALLBACK_REQUESTED: "The customer asked to be called back",
    VOICE_NOTE: "The customer sent a voice note",
    DOCUMENT: "The customer sent a document",
    OUT_OF_SCOPE: "The customer insisted on a question the assistant does not cover",
}

# What the bot's responses mean as attempts (the response names of domain/responses).
TRIED_RESPONSES = {
    "utter_ask_rephrase": "Asked the customer to rephrase",
    "utter_media_received": "Asked for a few words about an attachment it cannot read",
    "utter_media_to_agent": "Passed an attachment (voice note or document) to a person",
    "utter_request_human": "Told the customer how to reach a person",
    "utter_out_of_scope": "Said what it can help with and offered a person",
    "utter_handoff_coming": "Told the customer an agent is coming",
    "utter_handoff_no_agent": "Told the customer the agents are away",
    "utter_handoff_no_agent_here": "Told the customer the agents are away",
    "utter_handoff_no_speaker": "Told the customer no agent speaks their language",
    "utter_handoff_no_speaker_here": "Told the customer no agent speaks their language",
    "utter_handoff_busy": "Told the customer their place in the queue",
    "utter_queue_position": "Told the waiting customer their place in the queue",
    "utter_queue_position_closed": "Told the waiting customer the centre is closed",
    "utter_queue_position_away": "Told the waiting customer the agents are away",
    "utter_queue_position_no_speaker": "Told the waiting customer no agent speaks their "
                                       "language",
    "utter_queue_unchanged": "Told the waiting customer they are still in the queue",
    "utter_handoff_closed": "Told the customer the centre is closed",
    "utter_handoff_closed_here": "Told the customer the centre is closed",
    "utter_callback_noted": "Noted a callback request",
    "utter_technical_problem": "Reported a technical problem to the customer",
    "utter_empty_message": "Received an empty message",
}
KB_RESPONSES = ("utter_kb_answer", "utter_kb_answer_other_language")
# The article's title as the knowledge-base responses quote it: "…" or « … ».
_QUOTED_TITLE = re.compile(r"[\"“«]\s?([^\"”»\n]{1,120}?)\s?[\"”»]")


@dataclass(frozen=True)
class Said:
    """One line of the conversation, as the summary reads it."""

    by: str  # "customer" or "bot"
    text: str
    intent: str | None = None
    confidence: float = 0.0


# --- facts ------------------------------------------------------------------------------

def _newest_within(messages: list[str], budget: int) -> list[str]:
    kept = []
    for message in reversed(messages):
        if not isinstance(message, str):
            continue
        budget -= min(len(message), MAX_SCAN_CHARS)
        if budget < 0:
            break
        kept.append(message)
    return kept[::-1]


def _fact_key(fact: dict) -> tuple[str, str]:
    """The same fact written twice ("77 123 45 67", "+221771234567") counts once."""
    text, kind = fact["text"], fact["kind"]
    if kind == "phone":
        return kind, re.sub(r"[^0-9]", "", text)[-9:]
    return kind, re.sub(r"[\s.,'-]", "", text).casefold()


def facts(messages: list[str], limit: int = MAX_FACTS) -> list[dict]:
    """The facts of the messages, oldest first, each once, at most `limit`; of the newest
    messages that fit in MAX_SCAN_TOTAL characters (the work per request is bounded)."""
    found: dict[tuple[str, str], dict] = {}
    for message in _newest_within(messages, MAX_SCAN_TOTAL):
        for fact in facts_in(message):
            found.setdefault(_fact_key(fact), fact)
            if len(found) >= limit:
                return list(found.values())
    return list(found.values())


# --- the episode's lines ------------------------------------------------------------------

def episode_events(events: list, escalated_at: float) -> list[dict]:
    """The tracker events of this hand-over's episode: from the latest return to the bot
    before the escalation (earlier episodes were other requests) to the end."""
    events = [e for e in events[-MAX_EVENTS:] if isinstance(e, dict)]
    start = 0
    for index, event in enumerate(events):
        at = event.get("timestamp")
        if isinstance(at, (int, float)) and at >= escalated_at:
            break
        if event.get("event") in ("resume", "session_started"):
            start = index + 1
    return events[start:]


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def lines_from_events(events: list[dict]) -> list[Said]:
    """The customer's and the bot's messages (agents' and the desk's own left out)."""
    lines = []
    for event in events:
        text, kind = event.get("text"), event.get("event")
        if not isinstance(text, str) or not text:
            continue
        parse = _mapping(event.get("parse_data"))
        intent = _mapping(parse.get("intent"))
        if kind == "user" and not is_external(text, {"intent": intent}):
            confidence = intent.get("confidence")
            name = intent.get("name")
            lines.append(Said("customer", text, name if isinstance(name, str) else None,
                              float(confidence) if isinstance(confidence, (int, float))
                              else 0.0))
        elif kind == "bot" and not _mapping(event.get("metadata")).get("agent"):
            lines.append(Said("bot", text))
    return lines


def lines_from_record(record: ConversationRecord) -> list[Said]:
    """Without the tracker (Rasa down): the escalation's last messages, the latest one with
    the bot's best guess."""
    escalation = record.escalation
    lines = [Said(m.get("from") if m.get("from") == "customer" else "bot", m["text"])
             for m in escalation.last_messages
             if isinstance(m, dict) and isinstance(m.get("text"), str) and m["text"]]
    customer = [i for i, line in enumerate(lines) if line.by == "customer"]
    if customer and escalation.top_intents:
        best = escalation.top_intents[0]
        lines[customer[-1]] = Said("customer", lines[customer[-1]].text, best.get("name"),
                                   float(best.get("confidence") or 0.0))
    return lines


# --- the summary --------------------------------------------------------------------------

def quote(text: str, limit: int = MAX_QUOTE_CHARS) -> str:
    """A customer's message as one short line."""
    flat = " ".join(encodable(text[:limit * 4]).split())
    cut = cut_at_word(flat, limit - 1)
    return cut if cut == flat else f"{cut}…"


def wants(lines: list[Said]) -> str:
    """The request in a sentence: the latest confident intent in words, and the customer's
    own key message (the one with that intent, else their latest real message)."""
    customer = [line for line in lines if line.by == "customer"]
    if not customer:
        return ""
    request = next((line for line in reversed(customer)
                    if line.intent in INTENT_WANTS and line.intent != "request_human"
                    and line.confidence >= CONFIDENT), None)
    asked_for_person = any(line.intent == "request_human" and line.confidence >= CONFIDENT
                           for line in customer)
    key = request or next((line for line in reversed(customer)
                           if line.intent not in NOT_A_REQUEST | {"request_human"}
                           and len(line.text.split()) >= 3), customer[-1])
    words = (INTENT_WANTS[request.intent] if request
             else INTENT_WANTS["request_human"] if asked_for_person
             else "Not recognised by the bot" if key.intent else "")
    return f"{words}: “{quote(key.text)}”" if words else f"“{quote(key.text)}”"


def tried(events: list[dict], lines: list[Said]) -> list[str]:
    """What the bot did, each kind once with how many times, in order."""
    counts: dict[str, int] = {}
    if events:
        for event in events:
            for attempt in _attempts(event):
                counts[attempt] = counts.get(attempt, 0) + 1
    else:  # only the record's messages: what the bot said, briefly
        for line in lines:
            if line.by == "bot":
                counts.setdefault(f"Said: “{quote(line.text, 100)}”", 1)
    return [f"{what} ({n}×)" if n > 1 else what for what, n in counts.items()][:MAX_TRIED]


def _attempts(event: dict) -> list[str]:
    kind, metadata = event.get("event"), _mapping(event.get("metadata"))
    if kind == "bot" and not metadata.get("agent"):
        response = metadata.get("utter_action")
        if response in KB_RESPONSES:
            title = _QUOTED_TITLE.search(str(event.get("text") or "")[:MAX_SCAN_CHARS])
            return [f"Answered from the knowledge base: {title.group(1) if title else '?'}"]
        if response in TRIED_RESPONSES:
            return [TRIED_RESPONSES[response]]
        intent = response[len("utter_"):] if isinstance(response, str) else None
        if intent in INTENT_WANTS:
            return [f"Answered the request: {INTENT_WANTS[intent].lower()}"]
    if kind == "slot" and event.get("name") == "kb_miss" and event.get("value") is True:
        return ["Searched the knowledge base: no confident answer"]
    return []


def why(record: ConversationRecord) -> list[str]:
    """The hand-over's reasons in words, with the sentiment score and any re-queues."""
    escalation, said = record.escalation, []
    for reason in escalation.reasons:
        words = REASON_WORDS.get(reason, str(reason).replace("_", " ").capitalize())
        score = (escalation.sentiment or {}).get("score")
        if reason == NEGATIVE_SENTIMENT and isinstance(score, (int, float)):
            words = f"{words} (sentiment {score:+.2f})"
        said.append(words)
    for requeue in record.requeues[-3:]:
        said.append(f"Back in the queue: {requeue.get('why') or 'no reason given'}")
    return said


def summarize(record: ConversationRecord, tracker_events: list | None) -> dict:
    """The summary of the context route. `tracker_events`: Rasa's, or None when it could
    not be read (then the escalation record alone)."""
    events = (episode_events(tracker_events, record.escalation.created_at)
              if tracker_events is not None else [])
    lines = lines_from_events(events) if events else lines_from_record(record)
    customer = [line.text for line in lines if line.by == "customer"]
    return {"wants": wants(lines), "tried": tried(events, lines), "why": why(record),
            "facts": facts(customer[-MAX_CUSTOMER_MESSAGES:])}
