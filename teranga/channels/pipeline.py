"""Nothing accepted is lost: customers' messages and the replies to them go through two
durable queues in Redis (teranga/channels/ordered_queue.py), consumed by every Rasa process.

    webhook ─► intake (stored, then "200") ─► a Rasa turn ─► delivery ─► the provider

- `accept` stores a provider's message and marks its id seen in one atomic step, before the
  webhook answers; a redelivered id is recognised and not stored twice.
- An intake entry is acknowledged in the same atomic step that queues the turn's replies for
  delivery, after Rasa stored the turn. A consumer that dies mid-turn leaves its entry to
  another, which first looks in the tracker: a turn already stored is not run again, its
  replies (the bot events after that message) are queued instead.
- Replies that do not answer a customer's message (an agent's, the bot's on hand-back) go
  through `output(channel)`, which queues them at once.
- A delivery entry is sent by the channel's real sender (with its retries and dead letters)
  and acknowledged after; a consumer dying between the provider's answer and the
  acknowledgement is the one window where a reply can be sent twice (docs/decisions.md).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from redis.exceptions import RedisError

from teranga.channels.dedupe import REMEMBER_SECONDS, seen_key
from teranga.channels.ordered_queue import Consumer, Entry, Follow, NotHere, OrderedQueue
from teranga.channels.shared import redis_client

logger = logging.getLogger(__name__)

INTAKE_ID = "intake_id"  # in a user event's metadata["teranga"]: the message's id
DRAIN_SECONDS = 10.0


@dataclass(frozen=True)
class Channel:
    on_new_message: Callable  # Rasa's handler: runs a turn and stores it
    direct_output: Callable[[], OutputChannel]  # really sends (provider, socket)


class QueuedOutput(OutputChannel):
    """What Rasa sends through (`get_output_channel()`): each message is queued for
    delivery at once."""

    def __init__(self, pipeline: Pipeline, channel: str) -> None:
        self.pipeline = pipeline
        self.channel = channel

    def name(self) -> str:
        return self.channel

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        await self.pipeline.delivery.put(recipient_id, {
            "channel": self.channel, "message": json.dumps(message, ensure_ascii=False)})


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


class Pipeline:
    def __init__(self, client: aioredis.Redis, prefix: str = "teranga") -> None:
        self.client = client
        self.intake = OrderedQueue(client, "intake", prefix)
        self.delivery = OrderedQueue(client, "delivery", prefix)
        self.channels: dict[str, Channel] = {}
        self.agent = None  # Rasa's agent, for the tracker store
        self._consumers: list[Consumer] = []

    _shared: Pipeline | None = None

    @classmethod
    def shared(cls) -> Pipeline:
        """The pipeline of this process (every channel registers with the same one)."""
        if cls._shared is None:
            cls._shared = cls(redis_client())
        return cls._shared

    def register(self, channel: str, on_new_message: Callable,
                 direct_output: Callable[[], OutputChannel]) -> None:
        self.channels[channel] = Channel(on_new_message, direct_output)

    def output(self, channel: str) -> OutputChannel:
        return QueuedOutput(self, channel)

    def attach(self, blueprint) -> None:
        """Start consuming when the server has started, stop before it stops."""
        blueprint.listener("after_server_start")(self._started)
        blueprint.listener("before_server_stop")(self._stopping)

    async def _started(self, app, *_args) -> None:
        self.agent = getattr(app.ctx, "agent", None)
        await self.start()

    async def _stopping(self, *_args) -> None:
        await self.stop()

    async def start(self) -> None:
        if self._consumers:  # every channel's blueprint asks: once is enough
            return
        for queue in (self.intake, self.delivery):
            try:
                await queue.ensure_group()
            except RedisError as error:  # the consumers make it once Redis is back
                logger.warning("Redis unavailable at start (%s): consuming when it is back",
                               error)
        # Sending mostly waits (on the provider, on retries): many conversations at once.
        self._consumers = [Consumer(self.intake, self._take_turn),
                           Consumer(self.delivery, self._deliver, concurrency=256)]
        for consumer in self._consumers:
            consumer.start()

    async def stop(self) -> None:
        """The turns in progress finish, then the replies they queued are sent (within
        `DRAIN_SECONDS`), so that a graceful stop owes nobody a reply; what is left stays
        queued for the other processes, or for this one when it is back."""
        if not self._consumers:
            return
        turns, sends = self._consumers
        self._consumers = []
        await turns.stop()
        deadline = asyncio.get_running_loop().time() + DRAIN_SECONDS
        while asyncio.get_running_loop().time() < deadline and \
                (sends.holding or await self._delivery_backlog()):
            await asyncio.sleep(0.05)
        await sends.stop()

    async def _delivery_backlog(self) -> int:
        try:
            return await self.delivery.backlog()
        except RedisError:  # nothing to wait for that could be sent now
            return 0

    async def accept(self, channel: str, conversation_id: str, message_id: str, text: str,
                     metadata: dict | None = None) -> bool:
        """Store a customer's message for processing: True, or False if this message id
        was accepted before. Raises RedisError if it could not be stored."""
        seq = await self.intake.put(conversation_id, {
            "channel": channel, "message_id": message_id, "text": text,
            "metadata": json.dumps(metadata or {}, ensure_ascii=False)},
            seen_key(channel, message_id, self.intake.prefix), REMEMBER_SECONDS)
        return seq is not None

    async def _take_turn(self, entry: Entry) -> None:
        channel = self._channel(entry)
        replies = await self._stored_replies(entry) if entry.reclaimed else None
        if replies is None:
            collector = TurnReplies(entry.fields["channel"])
            metadata = json.loads(entry.fields["metadata"])
            metadata.setdefault("teranga", {})[INTAKE_ID] = entry.fields["message_id"]
            await channel.on_new_message(UserMessage(
                entry.fields["text"], collector, entry.conversation,
                input_channel=entry.fields["channel"], metadata=metadata))
            replies = collector.messages
        await self.intake.complete(entry, Follow(
            self.delivery, ("channel", entry.fields["channel"]),
            [json.dumps(reply, ensure_ascii=False) for reply in replies]))

    async def _stored_replies(self, entry: Entry) -> list[dict] | None:
        """The replies of this message's turn if the tracker has it (its first consumer
        died after Rasa stored it), else None."""
        if self.agent is None:
            return None
        tracker = await self.agent.tracker_store.retrieve(entry.conversation)
        events = list(tracker.events) if tracker else []
        for index, event in enumerate(events):
            if isinstance(event, UserUttered) and \
                    (event.metadata or {}).get("teranga", {}).get(INTAKE_ID) == \
                    entry.fields["message_id"]:
                logger.warning("Message %s of %s was processed before its consumer stopped: "
                               "its replies are queued, the turn is not run again",
                               entry.fields["message_id"], entry.conversation)
                return [e.message() for e in _until_next_user(events[index + 1:])
                        if isinstance(e, BotUttered)]
        return None

    def _channel(self, entry: Entry) -> Channel:
        channel = self.channels.get(entry.fields["channel"])
        if channel is None:
            raise NotHere(f"the channel {entry.fields['channel']} is not configured in this "
                          "process: every Rasa process needs the same channels")
        return channel

    async def _deliver(self, entry: Entry) -> None:
        output = self._channel(entry).direct_output()
        await output.send_response(entry.conversation, json.loads(entry.fields["message"]))
        await self.delivery.complete(entry)


def _until_next_user(events: list) -> list:
    for index, event in enumerate(events):
        if isinstance(event, UserUttered):
            return events[:index]
    return events
