"""Custom actions: thin, the logic is in `teranga`."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from teranga.dialogue.fallback import fallback_response


def _user_intents_newest_first(tracker: Tracker):
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            yield ((event.get("parse_data") or {}).get("intent") or {}).get("name")


class ActionAskRephrase(Action):
    def name(self) -> str:
        return "action_ask_rephrase"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        dispatcher.utter_message(response=fallback_response(_user_intents_newest_first(tracker)))
        return []
