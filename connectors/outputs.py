"""Rasa's side of the durable pipeline (teranga/channels/pipeline.py) and of the channels'
senders: the output channels Rasa sends through, and Rasa's turn as the pipeline runs it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.events import BotUttered, UserUttered

from teranga.channels.inbound import SECRETS_REMOVED
from teranga.channels.outbound import Option
from teranga.channels.outbox import DELIVERED_FIELDS, Outbox
from teranga.channels.pipeline import INTAKE_ID, Pipeline
from teranga.channels.shared import redis_client
from teranga.languages import default_language
from teranga.observability import metrics
from teranga.privacy.notice import NOTICE_RESPONSE, NoticesGiven, notice_settings

logger = logging.getLogger(__name__)
# Said after the turn of a message a secret was removed from: never share it, how to change it.
SECRET_WARNING = "utter_secret_removed"


class QueuedOutput(OutputChannel):
    """What Rasa sends through (`get_output_channel()`): each message is queued for
    delivery at once."""

    def __init__(self, pipeline: Pipeline, channel: str) -> None:
        self.pipeline = pipeline
        self.channel = channel

    def name(self) -> str:
        return self.channel

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        await self.pipeline.queue_reply(self.channel, recipient_id, message)


class TurnReplies(OutputChannel):
    """Holds a turn's replies as Rasa gives them (timestamp, agent and all), to be queued
    for delivery once the turn is stored; named as the channel, so that Rasa picks the
    channel's own response variants."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.messages: list[dict[str, Any]] = []

    def name(self) -> str:
        return self.channel

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.messages.append(dict(message))


class RasaTurns:
    """A turn as the pipeline runs it: Rasa's message handler (the `on_new_message` Rasa
    gives each channel's blueprint), and its tracker store to find a turn already stored."""

    def __init__(self, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                 tracker_store: TrackerStore | None, agent: Any = None,
                 notices: NoticesGiven | None = None) -> None:
        self.on_new_message = on_new_message
        self.tracker_store = tracker_store
        self.agent = agent
        self.notices = notices

    @classmethod
    def maker(cls, on_new_message) -> Callable[[Any], RasaTurns]:
        """For `Pipeline.attach`: the turns of the started Rasa server `app`."""
        def make(app) -> RasaTurns:
            agent = getattr(app.ctx, "agent", None)
            return cls(on_new_message, getattr(agent, "tracker_store", None), agent,
                       NoticesGiven(redis_client()))
        return make

    async def run(self, channel: str, conversation: str, text: str,
                  metadata: dict) -> list[dict[str, Any]]:
        collector = TurnReplies(channel)
        await self.on_new_message(UserMessage(text, collector, conversation,
                                              input_channel=channel, metadata=metadata))
        return collector.messages + await after_turn_messages(
            self.agent, channel, conversation, metadata, self.notices)

    async def stored_replies(self, conversation: str, message_id: str) -> list[dict] | None:
        """The bot's messages after this message in the tracker, if it holds the message
        (its first consumer died after Rasa stored the turn), else None."""
        return await stored_replies(self.tracker_store, conversation, message_id)


async def stored_replies(tracker_store: TrackerStore | None, conversation: str,
                         message_id: str) -> list[dict] | None:
    """The bot's messages after the message `message_id` (metadata["teranga"][INTAKE_ID]) in
    the conversation's tracker, if it holds that message, else None."""
    if tracker_store is None:
        return None
    tracker = await tracker_store.retrieve(conversation)
    events = list(tracker.events) if tracker else []
    for index, event in enumerate(events):
        if isinstance(event, UserUttered) and \
                (event.metadata or {}).get("teranga", {}).get(INTAKE_ID) == message_id:
            return [e.message() for e in _until_next_user(events[index + 1:])
                    if isinstance(e, BotUttered)]
    return None


async def after_turn_messages(agent: Any, channel: str, conversation: str, metadata: dict,
                              notices: NoticesGiven | None) -> list[dict[str, Any]]:
    """What the bot adds after a turn, in the conversation's language, stored in the tracker
    like any bot message (the desk shows them) and returned to be sent after the turn's
    replies: the warning when a secret was removed from the message (never share it; how to
    change it), and the privacy notice at the customer's first contact on a channel that sends
    it (`notices` keeps which conversations were given it). Added after the turn, not by a
    policy, so that the bot's answer is exactly what it would have been; the language is
    known only after the NLU."""
    if agent is None or agent.tracker_store is None:
        return []
    try:
        due = await _due_after_turn(conversation, channel, metadata, notices)
        return await _stored_messages(agent, channel, conversation, due, notices) \
            if due else []
    except Exception:  # the turn's own replies must still go out
        logger.exception("Could not add the warning or notice after a turn of %s", conversation)
        return []


async def _due_after_turn(conversation: str, channel: str, metadata: dict,
                          notices: NoticesGiven | None) -> list[str]:
    """The responses to add: read without the conversation's lock (most turns need none)."""
    due = [SECRET_WARNING] if ((metadata or {}).get("teranga") or {}).get(SECRETS_REMOVED) \
        else []
    if notices is not None and _notice_due_on(channel) and \
            not await notices.given(conversation):
        due.append(NOTICE_RESPONSE)
    return due


async def _stored_messages(agent: Any, channel: str, conversation: str, due: list[str],
                           notices: NoticesGiven | None) -> list[dict[str, Any]]:
    async with agent.lock_store.lock(conversation):
        tracker = await agent.tracker_store.retrieve(conversation)
        if tracker is None:
            return []
        policy_url = notice_settings().policy_url if NOTICE_RESPONSE in due else ""
        slots = {**tracker.current_slot_values(), "policy_url": policy_url}
        slots["language"] = slots.get("language") or default_language()
        events = []
        for name in due:
            if name == NOTICE_RESPONSE and await notices.given(conversation):
                continue  # a turn that ran meanwhile gave it
            response = agent.nlg.generate_from_slots(name, slots, channel) \
                if hasattr(agent.nlg, "generate_from_slots") else \
                await agent.nlg.generate(name, tracker, channel, policy_url=slots["policy_url"])
            if response:
                data = {k: v for k, v in response.items() if k != "text"}
                events.append(BotUttered(response.get("text"), data, {"utter_action": name}))
        for event in events:
            tracker.update(event)
        if events:
            await agent.tracker_store.save(tracker)
        if any(e.metadata["utter_action"] == NOTICE_RESPONSE for e in events):
            await notices.mark(conversation)
    return [event.message() for event in events]


def _notice_due_on(channel: str) -> bool:
    try:
        return notice_settings().sent_on(channel)
    except (OSError, ValueError):  # a broken settings file costs the notice, not the warning
        logger.exception("The privacy notice is not sent: its settings cannot be read")
        return False


def _until_next_user(events: list) -> list:
    for index, event in enumerate(events):
        if isinstance(event, UserUttered):
            return events[:index]
    return events


class ProviderOutput(OutputChannel):
    """Rasa's output channel over a provider's sender (Twilio's, Telegram's): texts, buttons
    and images, each sent fitted, retried and tracked by the sender."""

    def __init__(self, sender) -> None:
        self.sender = sender

    def name(self) -> str:  # Rasa asks the instance
        return self.sender.channel

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.sender.send_text(recipient_id, text, kwargs.get("timestamp"))

    async def send_text_with_buttons(self, recipient_id: str, text: str,
                                     buttons: list[dict[str, Any]], **kwargs: Any) -> None:
        choices = [Option(b.get("title", ""), b.get("payload", "")) for b in buttons]
        await self.sender.send_options(recipient_id, text, choices, kwargs.get("timestamp"))

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.sender.send_text(recipient_id, image, kwargs.get("timestamp"))


class OutboxOutputChannel(OutputChannel):
    """Rasa's output channel for messages pushed to REST customers."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    @classmethod
    def name(cls) -> str:
        return "rest"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        await self.outbox.put(recipient_id, {k: message[k] for k in DELIVERED_FIELDS
                                             if message.get(k)})
        metrics.delivery(self.name(), "sent")
