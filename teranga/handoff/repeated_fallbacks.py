"""What the bot says when it does not understand.

Asking a customer to rephrase again and again leaves them stuck; after
`MAX_REPHRASE_REQUESTS` fallbacks in a row the bot says how to reach a person instead.
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_REPHRASE_REQUESTS = 2
FALLBACK_INTENT = "nlu_fallback"
# A best guess that leads the next one by less than this is a near tie, not a guess:
# gibberish ("qxz vbnw plok") spreads the classifier's belief over several intents, and is
# asked to be rephrased rather than told it is out of scope. The dev block's unsure
# out-of-scope questions lead by 0.2 or more (docs/decisions.md).
CLEAR_LEAD = 0.1


def in_a_row(newest_first: Iterable, value) -> int:
    """How many of the newest items are `value`, counting back until one is not."""
    count = 0
    for item in newest_first:
        if item != value:
            break
        count += 1
    return count


def best_guess(parse_data: dict) -> str | None:
    """The intent ranked first, confident or not: FallbackClassifier's "nlu_fallback" put on
    top of a message still leaves the classifier's own guess in the ranking."""
    for intent in parse_data.get("intent_ranking") or [parse_data.get("intent") or {}]:
        if intent.get("name") != FALLBACK_INTENT:
            return intent.get("name")
    return None


def classifier_ranking(parse_data: dict) -> list[dict]:
    """The intent ranking without FallbackClassifier's "nlu_fallback"."""
    return [intent for intent in parse_data.get("intent_ranking") or []
            if intent.get("name") != FALLBACK_INTENT]


def clear_guess(parse_data: dict) -> str | None:
    """The best guess when it leads the next one by CLEAR_LEAD or more, else None."""
    ranking = classifier_ranking(parse_data)
    if len(ranking) > 1 and ranking[0].get("confidence", 0.0) \
            - ranking[1].get("confidence", 0.0) < CLEAR_LEAD:
        return None
    return best_guess(parse_data)


def consecutive_fallbacks(intents_newest_first: Iterable[str | None]) -> int:
    return in_a_row(intents_newest_first, FALLBACK_INTENT)


def fallback_response(intents_newest_first: Iterable[str | None]) -> str:
    """The response for the latest fallback, given the user intents, newest first."""
    if consecutive_fallbacks(intents_newest_first) > MAX_REPHRASE_REQUESTS:
        return "utter_request_human"
    return "utter_ask_rephrase"
