import pytest

from teranga.handoff.triggers import (
    ACTION_ERROR,
    ASKED_FOR_PERSON,
    NEGATIVE_SENTIMENT,
    NOT_UNDERSTOOD,
    REPEATED_FALLBACK,
    Thresholds,
    TurnSignals,
    apply_loop_guard,
    reasons_to_escalate,
)

THRESHOLDS = Thresholds()
CALM = TurnSignals(intent="check_balance", intent_confidence=0.95, sentiment_score=0.1)


def test_an_understood_calm_turn_stays_with_the_bot():
    assert reasons_to_escalate(CALM, THRESHOLDS) == []


@pytest.mark.parametrize("signals, reason", [
    (TurnSignals("request_human", 0.9), ASKED_FOR_PERSON),
    (TurnSignals("complain", 0.9, sentiment_score=-0.7), NEGATIVE_SENTIMENT),
    (TurnSignals("nlu_fallback", 0.3, kb_miss=True), NOT_UNDERSTOOD),
    (TurnSignals("nlu_fallback", 0.3, consecutive_fallbacks=2), REPEATED_FALLBACK),
    (TurnSignals("check_balance", 0.9, action_failed=True), ACTION_ERROR),
])
def test_each_trigger(signals, reason):
    assert reasons_to_escalate(signals, THRESHOLDS) == [reason]


def test_thresholds_are_boundaries():
    assert reasons_to_escalate(TurnSignals("x", 0.9, sentiment_score=-0.5), THRESHOLDS) == \
        [NEGATIVE_SENTIMENT]
    assert reasons_to_escalate(TurnSignals("x", 0.9, sentiment_score=-0.49), THRESHOLDS) == []
    assert reasons_to_escalate(TurnSignals("x", 0.5, kb_miss=True), THRESHOLDS) == []
    assert reasons_to_escalate(TurnSignals("x", 0.3, kb_miss=False), THRESHOLDS) == []


def test_several_reasons_are_all_recorded():
    signals = TurnSignals("request_human", 0.9, sentiment_score=-0.9)
    assert reasons_to_escalate(signals, THRESHOLDS) == [ASKED_FOR_PERSON, NEGATIVE_SENTIMENT]


def test_loop_guard_holds_back_the_same_reason_just_after_a_return():
    assert apply_loop_guard([NEGATIVE_SENTIMENT], {NEGATIVE_SENTIMENT: 0}, THRESHOLDS) == []
    assert apply_loop_guard([NEGATIVE_SENTIMENT], {NEGATIVE_SENTIMENT: 2}, THRESHOLDS) == []
    assert apply_loop_guard([NEGATIVE_SENTIMENT], {NEGATIVE_SENTIMENT: 3}, THRESHOLDS) == \
        [NEGATIVE_SENTIMENT]


def test_loop_guard_lets_other_reasons_and_explicit_requests_through():
    recent = {NEGATIVE_SENTIMENT: 0, ASKED_FOR_PERSON: 0}
    assert apply_loop_guard([ASKED_FOR_PERSON, NOT_UNDERSTOOD, NEGATIVE_SENTIMENT], recent,
                            THRESHOLDS) == [ASKED_FOR_PERSON, NOT_UNDERSTOOD]
