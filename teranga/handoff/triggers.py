"""When a conversation must go to a person, and why: pure decisions, no I/O.

The reasons are named so that the queue, the desk and the analytics speak of them alike.
A loop guard keeps a conversation just handed back to the bot from bouncing straight back
to the queue for the same reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from teranga.handoff.repeated_fallbacks import FALLBACK_INTENT

ASKED_FOR_PERSON = "asked_for_person"
NEGATIVE_SENTIMENT = "negative_sentiment"
NOT_UNDERSTOOD = "not_understood"  # low NLU confidence and no confident knowledge-base answer
REPEATED_FALLBACK = "repeated_fallback"
ACTION_ERROR = "action_error"
# The customer insisted on a question the company does not answer (see `decision`).
OUT_OF_SCOPE = "out_of_scope"
# Not a trigger: added to a waiting conversation when the customer accepts a callback.
CALLBACK_REQUESTED = "callback_requested"
# Not triggers of the policy: a customer sent what only a person can take in.
VOICE_NOTE = "voice_note"
DOCUMENT = "document"
REASONS = (ASKED_FOR_PERSON, NEGATIVE_SENTIMENT, NOT_UNDERSTOOD, REPEATED_FALLBACK, ACTION_ERROR,
           OUT_OF_SCOPE)


@dataclass(frozen=True)
class Thresholds:
    """The named thresholds of the handoff policy (set in config.yml)."""

    low_confidence: float = 0.5  # intent confidence under which the bot did not understand
    negative_sentiment: float = -0.5  # sentiment score at or under which the customer is upset
    repeated_fallbacks: int = 2  # fallbacks in a row that escalate even before a KB miss
    loop_guard_turns: int = 3  # customer turns after a return to the bot without re-escalation
    request_intent: str = "request_human"
    out_of_scope_intent: str = "out_of_scope"
    # A complaint is an unhappy customer, however calmly worded: a person takes it.
    complaints_to_person: bool = True
    complaint_intent: str = "complain"


@dataclass(frozen=True)
class TurnSignals:
    """What the latest customer turn told the assistant."""

    intent: str | None
    intent_confidence: float
    sentiment_score: float = 0.0
    kb_miss: bool = False
    consecutive_fallbacks: int = 0
    action_failed: bool = False
    # The intent ranked first, confident or not ("nlu_fallback" aside), unless the next one
    # is within CLEAR_LEAD of it (teranga/handoff/repeated_fallbacks.py).
    best_guess: str | None = None
    # Customer messages in a row, this one included, whose best guess is out of scope.
    out_of_scope_in_a_row: int = 0


def reasons_to_escalate(signals: TurnSignals, thresholds: Thresholds) -> list[str]:
    """Every reason this turn gives to hand the conversation to a person, in REASONS order."""
    found = []
    if signals.intent == thresholds.request_intent:
        found.append(ASKED_FOR_PERSON)
    if signals.sentiment_score <= thresholds.negative_sentiment or (
            thresholds.complaints_to_person and signals.intent == thresholds.complaint_intent):
        found.append(NEGATIVE_SENTIMENT)
    not_sure = (signals.intent_confidence < thresholds.low_confidence
                or signals.intent == FALLBACK_INTENT)  # also two intents too close to call
    if not_sure and signals.kb_miss:
        found.append(NOT_UNDERSTOOD)
    if signals.consecutive_fallbacks >= thresholds.repeated_fallbacks:
        found.append(REPEATED_FALLBACK)
    if signals.action_failed:
        found.append(ACTION_ERROR)
    return found


def apply_loop_guard(reasons: Iterable[str], turns_since_return: Mapping[str, int],
                     thresholds: Thresholds) -> list[str]:
    """Drop the reasons a recent return to the bot already answered.

    `turns_since_return` maps each reason of the last escalation to the customer turns since
    the agent handed back. An explicit request for a person always goes through: a customer
    who asks again must never be refused.
    """
    kept = []
    for reason in reasons:
        recent = turns_since_return.get(reason)
        if reason == ASKED_FOR_PERSON or recent is None or recent >= thresholds.loop_guard_turns:
            kept.append(reason)
    return kept
