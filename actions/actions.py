"""Custom actions: thin, the logic is in `teranga`."""

from __future__ import annotations

import functools
import inspect
import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from teranga.channels.inbound import media_kind
from teranga.dialogue.answering import IntentAnswers
from teranga.dialogue.domain import response_text
from teranga.dialogue.knowledge import kb_reply
from teranga.handoff import escalation
from teranga.handoff.repeated_fallbacks import best_guess, fallback_response
from teranga.handoff.satisfaction_answers import read_answer
from teranga.handoff.store import HandoffStore
from teranga.handoff.triggers import ASKED_FOR_PERSON, CALLBACK_REQUESTED, DOCUMENT, VOICE_NOTE
from teranga.knowledge_base.live import LiveKnowledgeBase
from teranga.languages import default_language

logger = logging.getLogger(__name__)


def reports_failure(run):
    """An action that fails says so in the `action_error` slot: the handoff policy then
    sends the conversation to a person instead of leaving the customer without an answer.
    For `run` methods plain or asynchronous (rasa_sdk awaits those)."""

    def failed(self, tracker) -> list:
        logger.exception("Action %s failed for %s", self.name(), tracker.sender_id)
        return [SlotSet("action_error", True)]

    if inspect.iscoroutinefunction(run):
        @functools.wraps(run)
        async def guarded_async(self, dispatcher, tracker, domain):
            try:
                events = await run(self, dispatcher, tracker, domain)
            except Exception:
                return failed(self, tracker)
            return [*events, SlotSet("action_error", False)]

        return guarded_async

    @functools.wraps(run)
    def guarded(self, dispatcher, tracker, domain):
        try:
            events = run(self, dispatcher, tracker, domain)
        except Exception:
            return failed(self, tracker)
        return [*events, SlotSet("action_error", False)]

    return guarded


@functools.cache
def handoff_store() -> HandoffStore:
    """One per action server (asynchronous: actions that use it are awaited on the action
    server's event loop)."""
    return HandoffStore.from_env()


@functools.cache
def live_knowledge_base() -> LiveKnowledgeBase:
    """One per action server, loaded on first use, following kb/ from then on."""
    return LiveKnowledgeBase()


@functools.cache
def intent_answers() -> IntentAnswers:
    return IntentAnswers(live_knowledge_base().knowledge_base)


def _user_intents_newest_first(tracker: Tracker):
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            yield ((event.get("parse_data") or {}).get("intent") or {}).get("name")


class ActionAskRephrase(Action):
    def name(self) -> str:
        return "action_ask_rephrase"

    @reports_failure
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        dispatcher.utter_message(response=fallback_response(_user_intents_newest_first(tracker)))
        return []


class ActionAnswer(Action):
    """A service question the NLU recognised: the intent's short answer, or the knowledge
    base's article when it answers more specifically (fees, limits, roaming...)."""

    def name(self) -> str:
        return "action_answer"

    @reports_failure
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        language = tracker.get_slot("language") or default_language()
        answer = intent_answers().choose(
            intent, tracker.latest_message.get("text") or "", language,
            response_text(domain, f"utter_{intent}", language))
        dispatcher.utter_message(response=answer.response, **answer.variables)
        return [SlotSet("kb_article", answer.article_id)]


class ActionAnswerFromKnowledgeBase(Action):
    """For messages no intent covers: answer from the knowledge base when it is confident,
    else say so (a knowledge-base miss) and ask to rephrase or point to a person."""

    def name(self) -> str:
        return "action_answer_from_kb"

    @reports_failure
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        question = tracker.latest_message.get("text") or ""
        language = tracker.get_slot("language") or default_language()
        answer = live_knowledge_base().answer(question, language)
        if answer.found:
            response, variables = kb_reply(answer, language)
            dispatcher.utter_message(response=response, **variables)
            return [SlotSet("kb_article", answer.chunk.article_id), SlotSet("kb_miss", False)]
        guess = best_guess(tracker.latest_message)
        agreed = intent_answers().agreeing(guess, question, language,
                                           response_text(domain, f"utter_{guess}", language))
        if agreed:
            dispatcher.utter_message(response=agreed.response, **agreed.variables)
            return [SlotSet("kb_article", agreed.article_id), SlotSet("kb_miss", False)]
        # A miss: the handoff policy decides what follows (a person, the out-of-scope answer,
        # or a request to rephrase).
        return [SlotSet("kb_article", None), SlotSet("kb_miss", True)]


class ActionHandoff(Action):
    """Put the conversation in the agents' queue with everything the bot knows, and tell
    the customer what happens next: a person soon, or (closed, nobody free) a callback."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict) -> list:
        return await hand_over(dispatcher, tracker, tracker.get_slot("handoff_reasons") or [])


async def hand_over(dispatcher: CollectingDispatcher, tracker: Tracker,
                    reasons: list[str]) -> list:
    """Queue the conversation and say what happens next; a customer already waiting (an
    upset one, whose escalation is published again) hears their place instead."""
    try:
        outlook, newly_queued = await escalation.join_queue(
            handoff_store(), tracker.current_state(), reasons, kb_candidates)
    except Exception:  # the queue is down: say how to reach a person another way
        logger.exception("Could not queue %s for an agent", tracker.sender_id)
        dispatcher.utter_message(response="utter_request_human")
        return [SlotSet("action_error", False)]
    if newly_queued:
        reply = escalation.handoff_reply(outlook, tracker.get_latest_input_channel())
        told = escalation.told_mark(outlook, reply)
        events = [SlotSet("callback_offered", reply.callback_offered)]
    else:
        reply, told = escalation.queue_update(outlook, tracker.get_slot("queue_told"))
        events = []
    dispatcher.utter_message(response=reply.response, **reply.variables)
    return [*events, SlotSet("waiting_for_agent", True), SlotSet("queue_told", told),
            SlotSet("action_error", False)]


class ActionTellQueuePosition(Action):
    """A waiting customer wrote what the bot cannot answer, or asked again for a person:
    their place in the queue and when someone can come, without queuing them again."""

    def name(self) -> str:
        return "action_tell_queue_position"

    @reports_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict) -> list:
        language = tracker.get_slot("language") or default_language()
        outlook = await escalation.queue_outlook(handoff_store(), tracker.sender_id, language)
        if outlook is None:  # no longer queued: answered as any other conversation
            return [SlotSet("waiting_for_agent", False), SlotSet("queue_told", None),
                    *await self.as_usual(dispatcher, tracker)]
        reply, told = escalation.queue_update(outlook, tracker.get_slot("queue_told"))
        dispatcher.utter_message(response=reply.response, **reply.variables)
        return [SlotSet("queue_told", told)]

    @staticmethod
    async def as_usual(dispatcher: CollectingDispatcher, tracker: Tracker) -> list:
        """A request for a person is queued; anything else gets a request to rephrase."""
        if (tracker.latest_message.get("intent") or {}).get("name") == "request_human":
            reasons = [ASKED_FOR_PERSON]
            return [SlotSet("handoff_reasons", reasons),
                    *await hand_over(dispatcher, tracker, reasons)]
        dispatcher.utter_message(response=fallback_response(_user_intents_newest_first(tracker)))
        return []


class ActionHandleMedia(Action):
    """Attachments without text: a voice note or a document goes to a person (voice is how
    many customers prefer to speak); a picture, a video or a location gets a polite request
    for a few words."""

    def name(self) -> str:
        return "action_handle_media"

    @reports_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict) -> list:
        kinds = {media_kind(a) for a in _latest_attachments(tracker)}
        reasons = [k for k in (VOICE_NOTE, DOCUMENT) if k in kinds]
        if not reasons:
            dispatcher.utter_message(response="utter_media_received")
            return []
        dispatcher.utter_message(response="utter_media_to_agent")
        return [SlotSet("handoff_reasons", reasons),
                *await hand_over(dispatcher, tracker, reasons)]


def _latest_attachments(tracker: Tracker) -> list[dict]:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return ((event.get("metadata") or {}).get("teranga") or {}).get("attachments") or []
    return []


class ActionRequestCallback(Action):
    """The customer accepted a callback: the desk shows it on their waiting conversation."""

    def name(self) -> str:
        return "action_request_callback"

    @reports_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict) -> list:
        reasons = [*(tracker.get_slot("handoff_reasons") or []), CALLBACK_REQUESTED]
        await escalation.escalate(handoff_store(), tracker.current_state(), reasons,
                                  kb_candidates)
        dispatcher.utter_message(response="utter_callback_noted")
        return [SlotSet("callback_offered", False)]


class ActionRecordSatisfaction(Action):
    """The answer to the satisfaction question, counted for the agent who helped."""

    def name(self) -> str:
        return "action_record_satisfaction"

    @reports_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict) -> list:
        language = tracker.get_slot("language") or default_language()
        satisfied = read_answer(tracker.latest_message.get("text") or "", language)
        if satisfied is None:  # HandoffPolicy predicts this action for answers only
            logger.warning("No satisfaction answer to record for %s", tracker.sender_id)
            return []
        agent_id = tracker.get_slot("handoff_agent") or "unknown"
        await handoff_store().record_satisfaction(agent_id, satisfied)
        dispatcher.utter_message(response="utter_satisfaction_thanks" if satisfied
                                 else "utter_satisfaction_sorry")
        return []


def kb_candidates(question: str, language: str) -> list[dict]:
    ranking = live_knowledge_base().knowledge_base.rank(question, language)
    return [{"article_id": c.chunk.article_id, "title": c.chunk.title,
             "score": round(c.score, 3)} for c in ranking.candidates[:3]]


live_knowledge_base()  # load at start-up, so that the first customer does not wait
