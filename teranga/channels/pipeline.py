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
  through `queue_reply`, at once.
- A delivery entry is sent by the channel's real sender (with its retries and dead letters)
  and acknowledged after; a consumer dying between the provider's answer and the
  acknowledgement is the one window where a reply can be sent twice (docs/decisions.md).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from teranga import redis_keys
from teranga.channels.dedupe import REMEMBER_SECONDS, seen_key
from teranga.channels.ordered_queue import Consumer, Entry, Follow, NotHere, OrderedQueue
from teranga.channels.shared import redis_client
from teranga.observability import metrics

logger = logging.getLogger(__name__)

INTAKE_ID = "intake_id"  # in a user event's metadata["teranga"]: the message's id
DRAIN_SECONDS = 10.0


Send = Callable[[str, dict[str, Any]], Awaitable[None]]  # a channel's real sender


class Turns(Protocol):
    """The dialogue's side (connectors/outputs.py adapts Rasa's)."""

    async def run(self, channel: str, conversation: str, text: str,
                  metadata: dict) -> list[dict[str, Any]]:
        """Run and store a turn; its replies, as the dialogue gives them."""

    async def stored_replies(self, conversation: str, message_id: str) -> list[dict] | None:
        """The replies of this message's turn if it is stored already, else None."""


class Pipeline:
    def __init__(self, client: aioredis.Redis, prefix: str = redis_keys.PREFIX) -> None:
        self.client = client
        self.intake = OrderedQueue(client, "intake", prefix)
        self.delivery = OrderedQueue(client, "delivery", prefix)
        self.senders: dict[str, Send] = {}
        self.turns: Turns | None = None  # made when the server starts (attach)
        self._consumers: list[Consumer] = []

    _shared: Pipeline | None = None

    @classmethod
    def shared(cls) -> Pipeline:
        """The pipeline of this process (every channel registers with the same one)."""
        if cls._shared is None:
            cls._shared = cls(redis_client())
        return cls._shared

    def register(self, channel: str, send: Send) -> None:
        self.senders[channel] = send

    def attach(self, blueprint, make_turns: Callable[[Any], Turns]) -> None:
        """Start consuming when the server has started (with the turns `make_turns` makes
        of the server app, once per process), stop before it stops."""

        async def started(app, *_args) -> None:
            if self.turns is None:
                self.turns = make_turns(app)
            await self.start()

        blueprint.listener("after_server_start")(started)
        blueprint.listener("before_server_stop")(self._stopping)

    async def queue_reply(self, channel: str, conversation_id: str,
                          message: dict[str, Any]) -> None:
        """Queue a message for delivery at once (an agent's reply, the bot's on hand-back)."""
        await self.delivery.put(conversation_id, {
            "channel": channel, "message": json.dumps(message, ensure_ascii=False)})

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
        self._sender(entry)  # a channel this process does not have is left to the others
        if self.turns is None:
            raise NotHere("the server has not started its dialogue yet")
        channel, message_id = entry.fields["channel"], entry.fields["message_id"]
        if not entry.reclaimed:  # its first pick-up (in this process or any)
            metrics.picked_up(channel, entry.queued_at)
        replies = await self.turns.stored_replies(entry.conversation, message_id) \
            if entry.reclaimed else None
        if replies is None:
            metadata = json.loads(entry.fields["metadata"])
            metadata.setdefault("teranga", {})[INTAKE_ID] = message_id
            replies = await self.turns.run(channel, entry.conversation,
                                           entry.fields["text"], metadata)
        else:
            logger.warning("Message %s of %s was processed before its consumer stopped: its "
                           "replies are queued, the turn is not run again", message_id,
                           entry.conversation)
        # Required: a completion only a master about to be replaced holds would leave the
        # message pending there for minutes (its consumer alive, thinking it done). Not
        # confirmed, the entry is handled again and finds its stored turn, or runs it.
        await self.intake.complete(entry, Follow(
            self.delivery, ("channel", channel),
            [json.dumps(reply, ensure_ascii=False) for reply in replies]), required=True)
        metrics.replied(channel, entry.queued_at)

    def _sender(self, entry: Entry) -> Send:
        send = self.senders.get(entry.fields["channel"])
        if send is None:
            raise NotHere(f"the channel {entry.fields['channel']} is not configured in this "
                          "process: every Rasa process needs the same channels")
        return send

    async def _deliver(self, entry: Entry) -> None:
        await self._sender(entry)(entry.conversation, json.loads(entry.fields["message"]))
        await self.delivery.complete(entry)

