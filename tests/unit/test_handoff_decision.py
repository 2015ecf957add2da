from teranga.handoff.decision import (
    ACTION_ANSWER_FROM_KB,
    ACTION_ASK_REPHRASE,
    ACTION_HANDOFF,
    ACTION_LISTEN,
    ConversationState,
    Decision,
    PolicyThresholds,
    decide,
)
from teranga.handoff.triggers import TurnSignals

T = PolicyThresholds()


def state(action, words=6, since=None, **signals) -> ConversationState:
    defaults = {"intent": "check_balance", "intent_confidence": 0.9}
    return ConversationState(action, TurnSignals(**{**defaults, **signals}), words, since or {})


def test_a_request_for_a_person_goes_to_the_queue_at_once():
    assert decide(state(ACTION_LISTEN, intent="request_human"), T) == \
        Decision(ACTION_HANDOFF, ("asked_for_person",))


def test_an_upset_customer_goes_to_the_queue_at_once():
    assert decide(state(ACTION_LISTEN, sentiment_score=-0.8), T) == \
        Decision(ACTION_HANDOFF, ("negative_sentiment",))


def test_an_understood_message_is_left_to_the_rules():
    assert decide(state(ACTION_LISTEN), T) is None


def test_after_a_knowledge_base_answer_the_bot_waits():
    assert decide(state(ACTION_ANSWER_FROM_KB, intent="nlu_fallback", intent_confidence=0.3),
                  T) == Decision(ACTION_LISTEN)


def test_a_real_question_nobody_can_answer_goes_to_a_person():
    missed = state(ACTION_ANSWER_FROM_KB, intent="nlu_fallback", intent_confidence=0.3,
                   kb_miss=True, consecutive_fallbacks=1)
    assert decide(missed, T) == Decision(ACTION_HANDOFF, ("not_understood",))


def test_a_short_unclear_message_first_gets_a_request_to_rephrase():
    missed = state(ACTION_ANSWER_FROM_KB, words=1, intent="nlu_fallback",
                   intent_confidence=0.3, kb_miss=True, consecutive_fallbacks=1)
    assert decide(missed, T) == Decision(ACTION_ASK_REPHRASE)
    again = state(ACTION_ANSWER_FROM_KB, words=1, intent="nlu_fallback",
                  intent_confidence=0.3, kb_miss=True, consecutive_fallbacks=2)
    assert decide(again, T) == Decision(ACTION_HANDOFF, ("repeated_fallback",))


def test_a_failed_action_goes_to_a_person():
    assert decide(state("action_answer_from_kb_other", action_failed=True), T) == \
        Decision(ACTION_HANDOFF, ("action_error",))


def test_handoff_and_rephrase_end_the_bots_turn():
    assert decide(state(ACTION_HANDOFF, action_failed=True), T) == Decision(ACTION_LISTEN)
    assert decide(state(ACTION_ASK_REPHRASE), T) == Decision(ACTION_LISTEN)


def test_no_bounce_back_right_after_a_return_to_the_bot():
    upset = state(ACTION_LISTEN, sentiment_score=-0.8, since={"negative_sentiment": 1})
    assert decide(upset, T) is None
    later = state(ACTION_LISTEN, sentiment_score=-0.8, since={"negative_sentiment": 3})
    assert decide(later, T) == Decision(ACTION_HANDOFF, ("negative_sentiment",))
    asks = state(ACTION_LISTEN, intent="request_human", since={"asked_for_person": 0})
    assert decide(asks, T) == Decision(ACTION_HANDOFF, ("asked_for_person",))


def test_a_failed_knowledge_base_action_goes_to_a_person_at_once():
    failed = state(ACTION_ANSWER_FROM_KB, intent="nlu_fallback", intent_confidence=0.3,
                   action_failed=True)
    assert decide(failed, T) == Decision(ACTION_HANDOFF, ("action_error",))


def test_a_fallback_between_two_close_intents_counts_as_not_understood():
    ambiguous = state(ACTION_ANSWER_FROM_KB, words=8, intent="nlu_fallback",
                      intent_confidence=0.52, kb_miss=True, consecutive_fallbacks=1)
    assert decide(ambiguous, T) == Decision(ACTION_HANDOFF, ("not_understood",))
