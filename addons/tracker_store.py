"""`AppendOnlyTrackerStore`, the Rasa tracker store named in endpoints.yml: Rasa's trackers
over the append-only Redis layout of teranga/dialogue/event_log.py, which reads one session
and writes only the new events, where Rasa's RedisTrackerStore rewrites every session."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.constants import IS_EXTERNAL
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

from teranga.dialogue.event_log import EventLog, Position
from teranga.observability import metrics
from teranga.redis_connections import sync_redis, url_of

# What a tracker remembers of the store: how its events line up with the stored list.
STORED = "_teranga_stored"


@dataclass(frozen=True)
class Stored:
    position: Position  # the stored list when the tracker was read or last saved
    loaded: int  # how many of the tracker's events are stored (those first)
    last: Event | None  # tracker.events[loaded - 1], to see the events were not replaced


class AppendOnlyTrackerStore(TrackerStore):
    """Built by Rasa from endpoints.yml with `host` (the endpoint's url), `domain`,
    `event_broker` and the endpoint's other keys (port, db, password, key_prefix,
    record_exp...), as Rasa builds its RedisTrackerStore."""

    def __init__(self, domain: Domain | None = None, host: str = "localhost",
                 port: int = 6379, db: int = 0, username: str | None = None,
                 password: str | None = None, event_broker: EventBroker | None = None,
                 record_exp: float | None = None, key_prefix: str | None = None,
                 use_ssl: bool = False, ssl_keyfile: str | None = None,
                 ssl_certfile: str | None = None, ssl_ca_certs: str | None = None,
                 socket_timeout: float = 10, **kwargs: Any) -> None:
        # The sync client, as Rasa's RedisTrackerStore: it blocks the event loop for a
        # message's few round trips, and measured faster than redis.asyncio for them
        # (docs/benchmarks.md, "Conversation history").
        # Through Sentinel when it is configured (teranga/redis_connections.py). A timeout
        # (Rasa's lock store's default): a Redis host that vanishes (no reset, only silence)
        # fails the turn, which the intake retries, instead of holding it for ever.
        if use_ssl:
            raise ValueError("TLS to Redis is not supported (docs/deploying.md)")
        self.red = sync_redis(url_of(host, port, db, password or None),
                              socket_timeout=socket_timeout, socket_connect_timeout=2)
        self.log = EventLog(self.red, key_prefix, record_exp)
        super().__init__(domain, event_broker, **kwargs)

    @property
    def key_prefix(self) -> str:
        return self.log.key_prefix

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The current session only: its cost does not grow with past sessions. Slots
        carry over because `action_session_start` wrote them again into the session."""
        return self._read(sender_id, whole=False)

    async def retrieve_full_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        """Every session (Rasa's HTTP API `GET /conversations/<id>/tracker`, exports)."""
        return self._read(sender_id, whole=True)

    def _read(self, sender_id: str, whole: bool) -> DialogueStateTracker | None:
        found = self.log.read(sender_id, whole)
        if found is None:
            return None
        events, position = found
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        _remember(tracker, position)
        return tracker

    async def exists(self, conversation_id: str) -> bool:
        return self.log.exists(conversation_id)

    async def keys(self) -> Iterable[str]:
        """Conversation ids (Rasa's RedisTrackerStore gives its keys, prefix and all)."""
        return self.log.conversation_ids()

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Nothing: `save` publishes the events it appends, without reading them back."""

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Append the events the tracker has beyond what is stored, and publish exactly
        those to the event broker.

        New events are found without reading any back: a tracker this store read or saved
        remembers how many of its events are stored and which was the last; it extends
        the stored conversation if that event is still in place. Any other tracker, such as
        the one Rasa builds for `PUT /conversations/<id>/tracker/events` (which replaces the
        events), is written over the stored conversation (EventLog.save). Rasa saves under
        its lock on the conversation; a write by anyone else since this tracker was read
        fails the save (redis.WatchError) rather than being lost.
        """
        events = list(tracker.events)
        known: Stored | None = getattr(tracker, STORED, None)
        extends = known is not None and len(events) >= known.loaded and \
            (known.loaded == 0 or events[known.loaded - 1] is known.last)
        position, new = self.log.save(tracker.sender_id, events, _as_dict,
                                      (known.position, known.loaded) if extends else None)
        _remember(tracker, position)
        _count_messages(tracker, new)
        if self.event_broker is not None:
            for data in new:  # the body Rasa's `_stream_new_events` sends
                self.event_broker.publish({"sender_id": tracker.sender_id, **data})


def _count_messages(tracker: DialogueStateTracker, new: list[dict]) -> None:
    """Customers' messages stored for the first time: counted here, once each, whatever
    their channel; a turn run again after a crash stores (and counts) nothing new. An
    intent triggered through the HTTP API (the hand-back) is not a customer's message."""
    for data in new:
        if data.get("event") == "user" and not (data.get("metadata") or {}).get(IS_EXTERNAL):
            metrics.message_received(data.get("input_channel"), tracker.get_slot("language"))


def _as_dict(event: Event) -> dict:
    return event.as_dict()  # each kind of event has its own


def _remember(tracker: DialogueStateTracker, position: Position) -> None:
    last = tracker.events[-1] if tracker.events else None
    setattr(tracker, STORED, Stored(position, len(tracker.events), last))
