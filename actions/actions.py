"""Custom actions: thin, the logic is in `teranga`."""

from __future__ import annotations

from functools import cache

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from teranga.dialogue.fallback import fallback_response
from teranga.dialogue.knowledge import kb_reply
from teranga.kb.live import LiveKnowledgeBase


@cache
def live_knowledge_base() -> LiveKnowledgeBase:
    """One per action server, loaded on first use, following kb/ from then on."""
    return LiveKnowledgeBase()


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


class ActionAnswerFromKnowledgeBase(Action):
    """For messages no intent covers: answer from the knowledge base when it is confident,
    else say so (a knowledge-base miss) and ask to rephrase or point to a person."""

    def name(self) -> str:
        return "action_answer_from_kb"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        question = tracker.latest_message.get("text") or ""
        language = tracker.get_slot("language") or "fr"
        answer = live_knowledge_base().answer(question, language)
        if answer.found:
            response, variables = kb_reply(answer, language)
            dispatcher.utter_message(response=response, **variables)
            return [SlotSet("kb_article", answer.chunk.article_id), SlotSet("kb_miss", False)]
        dispatcher.utter_message(response=fallback_response(_user_intents_newest_first(tracker)))
        return [SlotSet("kb_article", None), SlotSet("kb_miss", True)]


live_knowledge_base()  # load at start-up, so that the first customer does not wait
