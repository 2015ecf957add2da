"""When the action server cannot run an action, the Rasa server answers by itself.

Every custom action (the knowledge base, the hand-over itself) runs on the action server. If
that server is down, hung or failing, Rasa 3.6 logs the error and carries on with no events:
the customer gets no reply at all, and a request for a person is never queued. Instead, the
Rasa server tells the customer honestly, in their language, that something went wrong, and
queues the conversation for an agent itself (Redis is shared), with the reasons the policy
gave, or `action_error`.
"""

from __future__ import annotations

import asyncio
import functools
import logging

from rasa.core.actions.action import ActionExecutionRejection, create_bot_utterance
from rasa.shared.core.events import Event, FollowupAction, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from teranga.handoff.decision import ACTION_HANDOFF, ACTION_LISTEN
from teranga.handoff.escalation import escalate, handoff_reply
from teranga.handoff.store import HandoffStore
from teranga.handoff.triggers import ACTION_ERROR
from teranga.settings import Settings

logger = logging.getLogger(__name__)

# Rasa waits five minutes for an action by default; a customer does not. The slowest action
# (a knowledge-base answer) takes tens of milliseconds.
ACTION_TIMEOUT_SECONDS = Settings.from_env().action_timeout_seconds
APOLOGY = "utter_technical_problem"
NO_QUEUE = "utter_request_human"  # how to reach a person when even the queue is down


@functools.cache
def handoff_store() -> HandoffStore:
    return HandoffStore.from_env()


async def run_or_hand_over(run, action, output_channel, nlg, tracker: DialogueStateTracker,
                           domain) -> list[Event]:
    """`run` (RemoteAction.run) within the time limit, or the hand-over below."""
    try:
        return await asyncio.wait_for(run(action, output_channel, nlg, tracker, domain),
                                      ACTION_TIMEOUT_SECONDS)
    except ActionExecutionRejection:
        raise  # Rasa's own way for an action to decline: other policies get their turn
    except Exception as error:
        logger.error("Action %s failed for %s (%r): the Rasa server hands over by itself",
                     action.name(), tracker.sender_id, error)
        return await hand_over_without_actions(action.name(), output_channel, nlg, tracker)


async def hand_over_without_actions(action_name: str, output_channel, nlg,
                                    tracker: DialogueStateTracker) -> list[Event]:
    """An apology and the hand-over message, the conversation queued, and the turn over."""
    reasons = (tracker.get_slot("handoff_reasons") if action_name == ACTION_HANDOFF
               else None) or [ACTION_ERROR]
    responses, events = [(APOLOGY, {})], []
    try:
        state = tracker.current_state(EventVerbosity.ALL)
        outlook = await escalate(handoff_store(), state, list(reasons))
        reply = handoff_reply(outlook, tracker.get_latest_input_channel())
        responses.append((reply.response, reply.variables))
        events += [SlotSet("callback_offered", reply.callback_offered),
                   SlotSet("waiting_for_agent", True)]  # as action_handoff
    except Exception:
        logger.exception("Could not queue %s for an agent either", tracker.sender_id)
        responses.append((NO_QUEUE, {}))
    said = [await nlg.generate(name, tracker, output_channel.name(), **variables)
            for name, variables in responses]
    return [*(create_bot_utterance(message) for message in said if message),
            SlotSet("handoff_reasons", list(reasons)), *events, SlotSet("action_error", False),
            FollowupAction(ACTION_LISTEN)]
