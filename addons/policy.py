"""HandoffPolicy: the Rasa policy that hands conversations to people (thin: the decisions
are in `teranga.handoff.decision`). Configured in config.yml with named thresholds; its
priority is above RulePolicy's, so its decision wins when it makes one."""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ConversationResumed, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from teranga.handoff.decision import (
    ACTION_LISTEN,
    UTTER_OUT_OF_SCOPE,
    ConversationState,
    PolicyThresholds,
    decide,
)
from teranga.handoff.repeated_fallbacks import (
    FALLBACK_INTENT,
    clear_guess,
    consecutive_fallbacks,
    in_a_row,
)
from teranga.handoff.satisfaction_answers import read_answer
from teranga.handoff.triggers import TurnSignals
from teranga.languages import default_language
from teranga.text import words

REASONS_SLOT = "handoff_reasons"
WAITING_SLOT = "waiting_for_agent"
AGENT_SLOT = "handoff_agent"  # set by the desk when an agent hands back or closes
SATISFACTION_QUESTION = "utter_ask_satisfaction"
THRESHOLD_NAMES = ("low_confidence", "negative_sentiment", "repeated_fallbacks",
                   "loop_guard_turns", "min_words_not_understood", "out_of_scope_insists",
                   "complaints_to_person")


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT], is_trainable=True)
class HandoffPolicy(Policy):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        defaults = PolicyThresholds()
        return {"priority": 6, **{name: getattr(defaults, name) for name in THRESHOLD_NAMES}}

    def __init__(self, config, model_storage, resource, execution_context,
                 featurizer=None) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        self.thresholds = PolicyThresholds(**{name: config[name] for name in THRESHOLD_NAMES})

    def train(self, training_trackers, domain: Domain, **kwargs: Any) -> Resource:
        with self._model_storage.write_to(self._resource):
            pass  # nothing to learn: the thresholds are the whole model
        return self._resource

    def predict_action_probabilities(self, tracker: DialogueStateTracker, domain: Domain,
                                     rule_only_data=None, **kwargs: Any) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        decision = decide(conversation_state(tracker, self.thresholds), self.thresholds)
        if decision is None:
            return self._prediction(probabilities)
        probabilities[domain.index_for_action(decision.action)] = 1.0
        events = [SlotSet(REASONS_SLOT, list(decision.reasons))] if decision.reasons else []
        return self._prediction(probabilities, optional_events=events)


def conversation_state(tracker: DialogueStateTracker,
                       thresholds: PolicyThresholds) -> ConversationState:
    message = tracker.latest_message
    parse = message.parse_data if message else {}
    ranking = [i for i in parse.get("intent_ranking") or [] if i.get("name") != FALLBACK_INTENT]
    intent = (parse.get("intent") or {}).get("name")
    user_events = [e for e in reversed(tracker.events) if isinstance(e, UserUttered)]
    user_intents = [(e.parse_data.get("intent") or {}).get("name") for e in user_events]
    guesses = [clear_guess(e.parse_data) for e in user_events]
    signals = TurnSignals(
        intent=intent,
        intent_confidence=ranking[0].get("confidence", 0.0) if ranking else 0.0,
        sentiment_score=float((parse.get("sentiment") or {}).get("score", 0.0)),
        kb_miss=bool(tracker.get_slot("kb_miss")),
        consecutive_fallbacks=consecutive_fallbacks(user_intents),
        action_failed=bool(tracker.get_slot("action_error")),
        best_guess=guesses[0] if guesses else None,
        out_of_scope_in_a_row=in_a_row(guesses, thresholds.out_of_scope_intent))
    return ConversationState(tracker.latest_action_name, signals,
                             len(words(message.text or "")) if message else 0,
                             turns_since_return(tracker),
                             waiting_for_agent=waiting_for_agent(tracker),
                             satisfaction_answer=satisfaction_answer(tracker),
                             person_offered=bot_action_before_latest_message(tracker)
                             == UTTER_OUT_OF_SCOPE)


def waiting_for_agent(tracker: DialogueStateTracker) -> bool:
    """Queued and no agent yet: action_handoff set the slot, and no agent handed the
    conversation back or closed it since (the desk then sets `handoff_agent`). An agent who
    takes it pauses the bot; one who lets the answer timeout pass sends it back to the queue
    with a bare resume, and the customer is waiting again. action_tell_queue_position checks
    the queue itself, so a stale slot costs nothing."""
    for event in reversed(tracker.events):
        if isinstance(event, SlotSet) and event.key == WAITING_SLOT:
            return bool(event.value)
        if isinstance(event, SlotSet) and event.key == AGENT_SLOT:
            return False
    return False


def satisfaction_answer(tracker: DialogueStateTracker) -> bool | None:
    """The customer's latest message read as the answer to the satisfaction question, if the
    bot asked it just before (whatever intent the NLU gave it); else None."""
    if tracker.latest_action_name != ACTION_LISTEN or not tracker.latest_message:
        return None
    if bot_action_before_latest_message(tracker) != SATISFACTION_QUESTION:
        return None
    language = tracker.get_slot("language") or default_language()
    return read_answer(tracker.latest_message.text or "", language)


def bot_action_before_latest_message(tracker: DialogueStateTracker) -> str | None:
    """The last action other than listening before the customer's latest message."""
    seen_message = False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            if seen_message:
                return None  # two messages in a row: the question was not the last word
            seen_message = True
        elif seen_message and isinstance(event, ActionExecuted) \
                and event.action_name != ACTION_LISTEN:
            return event.action_name
    return None


def turns_since_return(tracker: DialogueStateTracker) -> dict[str, int]:
    """Customer turns since the last hand-back, for each reason of the last escalation."""
    events = list(tracker.events)
    resumed = [i for i, e in enumerate(events) if isinstance(e, ConversationResumed)]
    if not resumed:
        return {}
    turns = sum(isinstance(e, UserUttered) for e in events[resumed[-1]:])
    return {reason: turns for reason in tracker.get_slot(REASONS_SLOT) or []}
