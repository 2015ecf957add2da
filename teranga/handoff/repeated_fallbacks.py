"""What the bot says when it does not understand.

Asking a customer to rephrase again and again leaves them stuck; after
`MAX_REPHRASE_REQUESTS` fallbacks in a row the bot says how to reach a person instead.
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_REPHRASE_REQUESTS = 2
FALLBACK_INTENT = "nlu_fallback"


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


def consecutive_fallbacks(intents_newest_first: Iterable[str | None]) -> int:
    return in_a_row(intents_newest_first, FALLBACK_INTENT)


def fallback_response(intents_newest_first: Iterable[str | None]) -> str:
    """The response for the latest fallback, given the user intents, newest first."""
    if consecutive_fallbacks(intents_newest_first) > MAX_REPHRASE_REQUESTS:
        return "utter_request_human"
    return "utter_ask_rephrase"
