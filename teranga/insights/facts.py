"""What one conversation achieved, read from its tracker events (the record: every message,
action and slot as Rasa stores it, agents' replies and take-overs included).

A conversation is one Rasa session (a customer who comes back after the session expired
starts a new one), from its first customer message. Each definition below is the one in
docs/insights.md; they follow Chatwoot's reports and Rasa Pro's analytics where those have
one, and say where they differ.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

HANDOFF_ACTIONS = frozenset({"action_handoff"})
# Set by every way into the agents' queue (a request, an upset customer, a voice note, a
# request for a person while waiting): actions/actions.py's `hand_over`.
WAITING_SLOT = "waiting_for_agent"
FALLBACK_ACTIONS = frozenset({"action_ask_rephrase", "action_default_fallback"})
FALLBACK_INTENT = "nlu_fallback"
KB_ACTION = "action_answer_from_kb"
SATISFIED, UNSATISFIED = "utter_satisfaction_thanks", "utter_satisfaction_sorry"
SATISFACTION_QUESTION = "utter_ask_satisfaction"
NEGATIVE = "negative"
# Small talk says nothing of what the customer came for: the conversation's intent is the
# first other one.
SMALL_TALK = frozenset({"greet", "goodbye", "thank", "affirm", "deny", "handed_back",
                        FALLBACK_INTENT})


@dataclass
class Facts:
    """One conversation's facts; times are Unix seconds, None when it did not happen."""

    conversation_id: str
    started_at: float
    ended_at: float
    channel: str | None = None
    language: str | None = None
    intent: str | None = None
    customer_messages: int = 0
    bot_messages: int = 0
    agent_messages: int = 0
    handed_over_at: float | None = None
    handover_reasons: list[str] = field(default_factory=list)
    claimed_at: float | None = None
    first_agent_reply_at: float | None = None
    returned_at: float | None = None
    agent: str | None = None
    fallbacks: int = 0
    kb_answers: int = 0
    kb_misses: int = 0
    sentiments: Counter = field(default_factory=Counter)
    ended_upset: bool = False
    satisfaction_asked: bool = False
    satisfied: bool | None = None
    asked_to_rephrase: bool = False  # the assistant's last word asked the customer to rephrase
    # what the customer wrote that the assistant did not understand or could not answer, and
    # the last message of a conversation that ended upset
    missed_messages: list[tuple[float, str, str]] = field(default_factory=list)  # at, kind, text
    agent_answer: str | None = None  # the agent's first reply: a starting point for an article

    @property
    def contained(self) -> bool:
        """Handled without a person: never handed over (Rasa Pro's containment)."""
        return self.handed_over_at is None and self.claimed_at is None

    @property
    def left_waiting(self) -> bool:
        """The conversation stopped while the customer was kept waiting: handed over and
        never taken, or last asked to rephrase. Abandoned once it stays so past the session's
        expiry (the metrics decide, docs/insights.md): Rasa Pro counts any unanswered last bot
        message, which would count every answer that satisfied."""
        return (self.handed_over_at is not None and self.claimed_at is None) \
            or self.asked_to_rephrase


def sessions(events: Iterable[dict]) -> Iterator[list[dict]]:
    """The events split at each `session_started` (the action logged just before it goes
    with the new session)."""
    current: list[dict] = []
    for event in events:
        if event.get("event") == "session_started":
            carried = [current.pop()] if current and _is_action(current[-1],
                                                                 "action_session_start") else []
            if current:
                yield current
            current = carried
        current.append(event)
    if current:
        yield current


def conversation_facts(conversation_id: str, events: list[dict]) -> list[Facts]:
    """The facts of each session of a conversation that holds a customer message."""
    return [facts for session in sessions(events)
            if (facts := _session_facts(conversation_id, session)) is not None]


def _session_facts(conversation_id: str, events: list[dict]) -> Facts | None:
    user_events = [e for e in events if _from_customer(e)]
    if not user_events:
        return None
    first = user_events[0]
    facts = Facts(conversation_id=conversation_id, started_at=_at(first),
                  ended_at=max(_at(e) for e in events), channel=first.get("input_channel"))
    languages: Counter = Counter()
    pending_kb_question: dict | None = None
    reasons: list[str] = []
    for event in events:
        kind = event.get("event")
        if _from_customer(event):
            _read_user(facts, event, languages)
            facts.asked_to_rephrase = False
            pending_kb_question = event
        elif kind == "bot":
            _read_bot(facts, event)
        elif kind == "action":
            name = event.get("name")
            if name in HANDOFF_ACTIONS:
                _handed_over(facts, event, reasons)
            elif name in FALLBACK_ACTIONS:
                facts.fallbacks += 1
                facts.asked_to_rephrase = True
                _missed(facts, pending_kb_question, "not_understood")
        elif kind == "slot":
            name, value = event.get("name"), event.get("value")
            if name == "handoff_reasons" and value:
                reasons = [str(r) for r in value]
                if facts.handed_over_at is not None and not facts.handover_reasons:
                    facts.handover_reasons = list(reasons)
            elif name == "kb_miss" and value is not None:
                if value:
                    facts.kb_misses += 1
                    _missed(facts, pending_kb_question, "kb_miss")
                else:
                    facts.kb_answers += 1
            elif name == "handoff_agent" and value:
                facts.agent = facts.agent or str(value)
            elif name == WAITING_SLOT and value is True:
                _handed_over(facts, event, reasons)
        elif kind == "pause" and facts.claimed_at is None:
            facts.claimed_at = _at(event)
        elif kind == "resume" and facts.claimed_at is not None and facts.returned_at is None:
            facts.returned_at = _at(event)
    facts.language = languages.most_common(1)[0][0] if languages else None
    last_user = user_events[-1]
    facts.ended_upset = _sentiment(last_user) == NEGATIVE
    if facts.ended_upset:
        _missed(facts, last_user, "upset")
    return facts


def _handed_over(facts: Facts, event: dict, reasons: list[str]) -> None:
    if facts.handed_over_at is None:
        facts.handed_over_at = _at(event)
        facts.handover_reasons = list(reasons)
        facts.asked_to_rephrase = False


def _read_user(facts: Facts, event: dict, languages: Counter) -> None:
    facts.customer_messages += 1
    parse = event.get("parse_data") or {}
    intent = (parse.get("intent") or {}).get("name")
    if intent == FALLBACK_INTENT:
        facts.fallbacks += 1
    if facts.intent is None and intent and intent not in SMALL_TALK:
        facts.intent = intent
    if language := _language(parse):
        languages[language] += 1
    if sentiment := _sentiment(event):
        facts.sentiments[sentiment] += 1


def _read_bot(facts: Facts, event: dict) -> None:
    metadata = event.get("metadata") or {}
    if metadata.get("agent") and not metadata.get("teranga_notice"):
        facts.agent_messages += 1
        facts.agent = facts.agent or str(metadata["agent"])
        if facts.first_agent_reply_at is None:
            facts.first_agent_reply_at = _at(event)
            facts.agent_answer = event.get("text") or None
        facts.asked_to_rephrase = False
        return
    facts.bot_messages += 1
    response = metadata.get("utter_action")
    if response == SATISFACTION_QUESTION:
        facts.satisfaction_asked = True
    elif response in (SATISFIED, UNSATISFIED):
        facts.satisfaction_asked = True
        facts.satisfied = response == SATISFIED


def _missed(facts: Facts, question: dict | None, kind: str) -> None:
    if question is not None and question.get("text"):
        entry = (_at(question), kind, str(question["text"]))
        if entry not in facts.missed_messages:
            facts.missed_messages.append(entry)


def _language(parse: dict) -> str | None:
    for entity in parse.get("entities") or []:
        if entity.get("entity") == "language" and entity.get("value"):
            return str(entity["value"])
    language = parse.get("language")
    return str(language) if isinstance(language, str) else None


def _sentiment(event: dict) -> str | None:
    sentiment = (event.get("parse_data") or {}).get("sentiment")
    label = sentiment.get("label") if isinstance(sentiment, dict) else None
    return str(label) if label else None


def _from_customer(event: dict) -> bool:
    """A message the customer sent, not an intent another program triggered through Rasa's
    API (the desk's `handed_back`: Rasa marks it `is_external`)."""
    return event.get("event") == "user" and not (event.get("metadata") or {}).get("is_external")


def _is_action(event: dict, name: str) -> bool:
    return event.get("event") == "action" and event.get("name") == name


def _at(event: dict) -> float:
    try:
        return float(event.get("timestamp") or 0.0)
    except (TypeError, ValueError):
        return 0.0
