"""The handoff policy's decision at each step of a conversation, from plain inputs.

After a customer message: an explicit request for a person or a clearly upset customer goes
to the queue at once. After the knowledge-base action: an answer waits for the customer; a
miss on a real question, or a second fallback in a row, goes to the queue; any other miss
asks the customer to rephrase. After a failed action: the queue.

A question the company does not answer (its best intent is `out_of_scope` and the knowledge
base has nothing) gets an honest answer that says what the assistant can do and offers a
person: a "yes" to that offer goes to the queue, and so does a customer who insists
(`out_of_scope_insists` such messages in a row).

A customer already waiting for an agent is not queued again for writing: a message the bot
does not understand, or another request for a person, gets their place in the queue instead;
only being upset re-publishes the escalation (which raises its priority). The message right
after the satisfaction question is recorded as its answer when it reads as one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from teranga.handoff.triggers import (
    ACTION_ERROR,
    ASKED_FOR_PERSON,
    NEGATIVE_SENTIMENT,
    NOT_UNDERSTOOD,
    OUT_OF_SCOPE,
    REPEATED_FALLBACK,
    Thresholds,
    TurnSignals,
    apply_loop_guard,
    reasons_to_escalate,
)

ACTION_LISTEN = "action_listen"
ACTION_HANDOFF = "action_handoff"
ACTION_ASK_REPHRASE = "action_ask_rephrase"
ACTION_ANSWER_FROM_KB = "action_answer_from_kb"
ACTION_TELL_QUEUE_POSITION = "action_tell_queue_position"
ACTION_RECORD_SATISFACTION = "action_record_satisfaction"
# What the assistant can help with, and the offer of a person (domain/responses).
UTTER_OUT_OF_SCOPE = "utter_out_of_scope"
AFFIRM = "affirm"
AT_ONCE = (ASKED_FOR_PERSON, NEGATIVE_SENTIMENT)


@dataclass(frozen=True)
class PolicyThresholds(Thresholds):
    # A knowledge-base miss on a message this long is a real question the bot cannot answer;
    # a shorter one (a typo, "hein?") first gets a request to rephrase.
    min_words_not_understood: int = 4
    # Out-of-scope messages in a row after which the customer is taken to insist and goes to
    # a person (1: at once; 0: never, unless they accept the offer).
    out_of_scope_insists: int = 2


@dataclass(frozen=True)
class ConversationState:
    latest_action: str | None
    signals: TurnSignals
    message_words: int = 0
    turns_since_return: Mapping[str, int] = field(default_factory=dict)
    # Queued, no agent yet (action_handoff said so, no pause or resume since).
    waiting_for_agent: bool = False
    # The latest message answers the satisfaction question asked just before it: True
    # satisfied, False not; None if it is no answer, or no question was asked.
    satisfaction_answer: bool | None = None
    # The bot's last words before the latest message offered a person (UTTER_OUT_OF_SCOPE).
    person_offered: bool = False


@dataclass(frozen=True)
class Decision:
    action: str
    reasons: tuple[str, ...] = ()


def decide(state: ConversationState, thresholds: PolicyThresholds) -> Decision | None:
    """The next action the handoff policy insists on, or None to let the other policies act."""
    signals = state.signals
    if state.latest_action == ACTION_HANDOFF:
        return Decision(ACTION_LISTEN)
    if signals.action_failed and state.latest_action != ACTION_LISTEN:
        return _escalate([ACTION_ERROR], state, thresholds) or Decision(ACTION_LISTEN)
    if state.latest_action in (ACTION_ASK_REPHRASE, ACTION_TELL_QUEUE_POSITION,
                               ACTION_RECORD_SATISFACTION, UTTER_OUT_OF_SCOPE):
        return Decision(ACTION_LISTEN)
    if state.latest_action == ACTION_LISTEN:
        at_once = [r for r in reasons_to_escalate(signals, thresholds) if r in AT_ONCE]
        # "non, je veux un conseiller": the request for a person is what matters
        if state.satisfaction_answer is not None and ASKED_FOR_PERSON not in at_once:
            return Decision(ACTION_RECORD_SATISFACTION)
        if state.person_offered and signals.intent == AFFIRM and not state.waiting_for_agent:
            return _escalate([ASKED_FOR_PERSON], state, thresholds)
        if state.waiting_for_agent:
            return _while_waiting(at_once, state, thresholds)
        return _escalate(at_once, state, thresholds)
    if state.latest_action == ACTION_ANSWER_FROM_KB:
        if not signals.kb_miss:
            return Decision(ACTION_LISTEN)
        if state.waiting_for_agent:
            return Decision(ACTION_TELL_QUEUE_POSITION)
        if signals.best_guess == thresholds.out_of_scope_intent:
            return _out_of_scope(state, thresholds)
        reasons = [r for r in reasons_to_escalate(signals, thresholds)
                   if r == REPEATED_FALLBACK
                   or (r == NOT_UNDERSTOOD
                       and state.message_words >= thresholds.min_words_not_understood)]
        return _escalate(reasons, state, thresholds) or Decision(ACTION_ASK_REPHRASE)
    return None


def _out_of_scope(state: ConversationState, thresholds: PolicyThresholds) -> Decision:
    """The honest answer, or a person for a customer who insists."""
    insists = thresholds.out_of_scope_insists
    if insists and state.signals.out_of_scope_in_a_row >= insists:
        return _escalate([OUT_OF_SCOPE], state, thresholds) or Decision(UTTER_OUT_OF_SCOPE)
    return Decision(UTTER_OUT_OF_SCOPE)


def _while_waiting(at_once: list[str], state: ConversationState,
                   thresholds: PolicyThresholds) -> Decision | None:
    """An upset waiting customer's escalation is published again (its priority rises); a
    new request for a person gets their place in the queue; anything else goes on as usual."""
    upset = (_escalate([NEGATIVE_SENTIMENT], state, thresholds)
             if NEGATIVE_SENTIMENT in at_once else None)
    if upset:
        return upset
    if ASKED_FOR_PERSON in at_once:
        return Decision(ACTION_TELL_QUEUE_POSITION)
    return None


def _escalate(reasons, state: ConversationState, thresholds) -> Decision | None:
    kept = apply_loop_guard(reasons, state.turns_since_return, thresholds)
    return Decision(ACTION_HANDOFF, tuple(kept)) if kept else None
