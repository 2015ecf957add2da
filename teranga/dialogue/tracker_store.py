"""Conversations in Redis, appended to and read one session at a time. Named in endpoints.yml.

Rasa's RedisTrackerStore keeps a conversation as one JSON value: every message reads and
deserialises every session the customer ever had, merges, rewrites it all, and the event
broker reads it once more (`TrackerStore.stream_events`). A returning customer with 700
sessions waited 1.8 s per message. Here, as Rasa's SQLTrackerStore does, a message reads
only the current session and writes only its new events:

- `<prefix>:tracker-events:<id>`: a list of the events as JSON, oldest first, appended to;
- `<prefix>:tracker-session:<id>`: the list index where the current session begins (its
  `action_session_start`, or its `session_started` if no such action precedes it). It also
  says that the conversation exists, even with no events.

The names sit beside Rasa's own `<prefix>:tracker:<id>`, never under it, so that the old
keys (kept by `migrate_from_rasa` unless asked) are never mistaken for these.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

import redis
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import DEFAULT_REDIS_TRACKER_STORE_KEY_PREFIX, TrackerStore
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

DEFAULT_KEY_PREFIX = "teranga"
# What a tracker remembers of the store: how its events line up with the stored list.
STORED = "_teranga_stored"


def tracker_keys(key_prefix: str, sender_id: str) -> tuple[str, str]:
    """The conversation's list of events, and its session start."""
    return (f"{key_prefix}:tracker-events:{sender_id}",
            f"{key_prefix}:tracker-session:{sender_id}")


@dataclass(frozen=True)
class Stored:
    length: int  # the stored list's length when the tracker was read or last saved
    start: int  # the stored session start then
    loaded: int  # how many of the tracker's events are stored (those first)
    last: Event | None  # tracker.events[loaded - 1], to see the events were not replaced


class Plan(NamedTuple):
    """How `save` writes a tracker."""

    replace: bool  # write over what is stored, or append
    first_new: int  # the tracker's first event to write
    base: int  # the list index it gets
    current: int  # the session start if no new session begins
    publish_from: int  # the tracker's first event the broker has not had


def session_start(events: list, first_new: int, index_of_first_new: int, current: int) -> int:
    """The list index where the latest session begins, given the events from `first_new`
    on are new and will sit at `index_of_first_new` on. As SQLTrackerStore's query
    (events stamped at or after the last `session_started`), the `action_session_start`
    logged just before it, and stamped after it, belongs to the session."""
    for position in range(len(events) - 1, first_new - 1, -1):
        if isinstance(events[position], SessionStarted):
            before = events[position - 1] if position else None
            if isinstance(before, ActionExecuted) and \
                    before.action_name == ACTION_SESSION_START_NAME:
                position -= 1
            return index_of_first_new + position - first_new
    return current


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
                 **kwargs: Any) -> None:
        # The sync client, as Rasa's RedisTrackerStore: it blocks the event loop for a
        # message's few round trips, and measured faster than redis.asyncio for them
        # (docs/benchmarks.md, "Conversation history").
        self.red = redis.StrictRedis(host=host, port=port, db=db, username=username,
                                     password=password or None, ssl=use_ssl,
                                     ssl_keyfile=ssl_keyfile, ssl_certfile=ssl_certfile,
                                     ssl_ca_certs=ssl_ca_certs)
        self.record_exp = float(record_exp) if record_exp else None
        self.key_prefix = key_prefix or DEFAULT_KEY_PREFIX
        super().__init__(domain, event_broker, **kwargs)

    def _keys(self, sender_id: str) -> tuple[str, str]:
        return tracker_keys(self.key_prefix, sender_id)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The current session only: its cost does not grow with past sessions. Slots
        carry over because `action_session_start` wrote them again into the session."""
        return self._read(sender_id, whole=False)

    async def retrieve_full_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        """Every session (Rasa's HTTP API `GET /conversations/<id>/tracker`, exports)."""
        return self._read(sender_id, whole=True)

    def _read(self, sender_id: str, whole: bool) -> DialogueStateTracker | None:
        events_key, session_key = self._keys(sender_id)
        while True:  # once, unless a rewrite moved the session start between the reads
            offset = 0 if whole else int(self.red.get(session_key) or 0)
            with self.red.pipeline() as pipe:
                start, raw = pipe.get(session_key).lrange(events_key, offset, -1).execute()
            if start is None:
                if not self._moved_from_rasa(sender_id):
                    return None
                continue
            if whole or int(start) == offset:
                break
        tracker = DialogueStateTracker.from_dict(sender_id, [json.loads(e) for e in raw],
                                                 self.domain.slots)
        self._remember(tracker, offset + len(raw), int(start))
        return tracker

    def _moved_from_rasa(self, sender_id: str) -> bool:
        """A conversation still in Rasa's RedisTrackerStore layout (written before this
        store was configured) is moved over on its first read, so that no returning customer
        starts from nothing where `teranga trackers migrate` was not run. Whether the
        conversation is now in this store."""
        old_key = rasa_key_prefix(self.key_prefix) + sender_id
        if not self.red.exists(old_key):
            return False
        try:
            _migrate_one(self.red, old_key.encode(), self._keys(sender_id), False,
                         Migration())
        except redis.WatchError:  # written meanwhile: whoever did it moved it, or will
            pass
        return bool(self.red.exists(self._keys(sender_id)[1]))

    @staticmethod
    def _remember(tracker: DialogueStateTracker, length: int, start: int) -> None:
        last = tracker.events[-1] if tracker.events else None
        setattr(tracker, STORED, Stored(length, start, len(tracker.events), last))

    async def exists(self, conversation_id: str) -> bool:
        return bool(self.red.exists(self._keys(conversation_id)[1]))

    async def keys(self) -> Iterable[str]:
        """Conversation ids (Rasa's RedisTrackerStore gives its keys, prefix and all)."""
        prefix = self._keys("")[1]
        return [key.decode()[len(prefix):]
                for key in self.red.scan_iter(match=_glob_escape(prefix) + "*", count=1000)]

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Nothing: `save` publishes the events it appends, without reading them back."""

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Append the events the tracker has beyond what is stored, in one MULTI, and
        publish exactly those to the event broker.

        New events are found without reading any back: a tracker this store read or saved
        remembers how many of its events are stored and which was the last; it extends
        the stored conversation if that event is still in place and the stored list has
        not changed since. Any other tracker, such as the one Rasa builds for `PUT
        /conversations/<id>/tracker/events` (which replaces the events), is written over
        the stored conversation, which then holds exactly the tracker's events; the broker
        gets those after the run they share with the stored ones. Rasa saves under its
        lock on the conversation; a write by anyone else in between fails the MULTI
        (redis.WatchError) rather than being lost.
        """
        events_key, session_key = self._keys(tracker.sender_id)
        events = list(tracker.events)
        with self.red.pipeline() as pipe:
            pipe.watch(events_key, session_key)
            plan = self._plan(pipe, tracker, events, events_key, session_key)
            start = session_start(events, plan.first_new, plan.base, plan.current)
            dumped = [event.as_dict() for event in events[plan.first_new:]]
            pipe.multi()
            if plan.replace:
                pipe.delete(events_key)
            if dumped:
                pipe.rpush(events_key, *(json.dumps(data) for data in dumped))
            pipe.set(session_key, start)
            if self.record_exp:
                pipe.expire(events_key, int(self.record_exp))
                pipe.expire(session_key, int(self.record_exp))
            pipe.execute()
        self._remember(tracker, plan.base + len(dumped), start)
        self._publish(tracker.sender_id, dumped[plan.publish_from - plan.first_new:])

    def _plan(self, pipe, tracker: DialogueStateTracker, events: list, events_key: str,
              session_key: str) -> Plan:
        length, stored_start = pipe.llen(events_key), pipe.get(session_key)
        if stored_start is None:  # a new conversation
            return Plan(replace=True, first_new=0, base=0, current=0, publish_from=0)
        known: Stored | None = getattr(tracker, STORED, None)
        if known and (known.length, known.start) == (length, int(stored_start)) and \
                len(events) >= known.loaded and \
                (known.loaded == 0 or events[known.loaded - 1] is known.last):
            return Plan(replace=False, first_new=known.loaded, base=length,
                        current=known.start, publish_from=known.loaded)
        return Plan(replace=True, first_new=0, base=0, current=0,
                    publish_from=self._shared(pipe, events_key, events))

    @staticmethod
    def _shared(pipe, events_key: str, events: list) -> int:
        """How many of `events`, from the first, are the stored events."""
        stored = pipe.lrange(events_key, 0, len(events) - 1)
        count = 0
        for raw, event in zip(stored, events, strict=False):
            if json.loads(raw) != event.as_dict():
                break
            count += 1
        return count

    def _publish(self, sender_id: str, dumped: list[dict]) -> None:
        if self.event_broker is None:
            return
        for data in dumped:  # the body Rasa's `_stream_new_events` sends
            self.event_broker.publish({"sender_id": sender_id, **data})


def _glob_escape(text: str) -> str:
    return "".join(f"\\{char}" if char in "\\*?[]" else char for char in text)


def rasa_key_prefix(key_prefix: str | None) -> str:
    """The prefix of Rasa 3.6's RedisTrackerStore keys for an endpoint's `key_prefix`
    (`RedisTrackerStore._set_key_prefix`): "teranga" gives "teranga:tracker:"; none, or
    one that is not alphanumeric, gives "tracker:"."""
    default = DEFAULT_REDIS_TRACKER_STORE_KEY_PREFIX
    return f"{key_prefix}:{default}" if key_prefix and key_prefix.isalnum() else default


@dataclass
class Migration:
    found: int = 0  # keys of Rasa's store holding a value
    migrated: int = 0
    events: int = 0  # events copied
    already: int = 0  # already in the new layout: left as they are
    differing: int = 0  # in the new layout, and not a continuation of the old tracker
    deleted: int = 0  # old keys deleted (--delete-old)
    unreadable: int = 0  # not a tracker: left alone


def migrate_from_rasa(client: redis.Redis, key_prefix: str = DEFAULT_KEY_PREFIX,
                      rasa_prefix: str | None = None, delete_old: bool = False) -> Migration:
    """Copy every conversation of Rasa's RedisTrackerStore (one JSON value per key) into
    this store's layout, events unchanged, with the key's remaining time to live.

    Safe to run twice, and while the assistant runs: a conversation already in the new
    layout is never written again (it may have gone on there). Old keys stay unless
    `delete_old`; then one goes only once its events are, in order, the first of the
    new list."""
    rasa_prefix = rasa_key_prefix(key_prefix) if rasa_prefix is None else rasa_prefix
    report = Migration()
    for old_key in client.scan_iter(match=_glob_escape(rasa_prefix) + "*", count=1000):
        if client.type(old_key) != b"string":
            continue
        report.found += 1
        sender_id = old_key.decode()[len(rasa_prefix):]
        while True:  # again if Rasa's store wrote the old key meanwhile
            try:
                _migrate_one(client, old_key, tracker_keys(key_prefix, sender_id),
                             delete_old, report)
                break
            except redis.WatchError:
                continue
    return report


def _rasa_events(value: bytes | None) -> list[dict] | None:
    try:
        events = json.loads(value)["events"]
    except (TypeError, ValueError, KeyError):
        return None
    return events if isinstance(events, list) else None


def _migrate_one(client: redis.Redis, old_key: bytes, keys: tuple[str, str],
                 delete_old: bool, report: Migration) -> None:
    events_key, session_key = keys
    with client.pipeline() as pipe:
        pipe.watch(old_key, events_key, session_key)
        events = _rasa_events(pipe.get(old_key))
        if events is None:
            report.unreadable += 1
            return
        if pipe.exists(session_key):
            stored = [json.loads(raw) for raw in pipe.lrange(events_key, 0, len(events) - 1)]
            report.already += 1
            report.differing += stored != events
            if delete_old and stored == events:
                pipe.multi()
                pipe.delete(old_key)
                pipe.execute()
                report.deleted += 1
            return
        ttl = pipe.pttl(old_key)
        start = session_start([Event.from_parameters(data) for data in events], 0, 0, 0)
        pipe.multi()
        if events:
            pipe.rpush(events_key, *(json.dumps(data) for data in events))
            if ttl > 0:
                pipe.pexpire(events_key, ttl)
        pipe.set(session_key, start, px=ttl if ttl > 0 else None)
        if delete_old:
            pipe.delete(old_key)
        pipe.execute()
    report.migrated += 1
    report.events += len(events)
    report.deleted += delete_old
