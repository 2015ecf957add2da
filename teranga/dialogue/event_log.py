"""Conversations in Redis, appended to and read one session at a time (the layout of the
tracker store named in endpoints.yml, addons/tracker_store.py).

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
keys (kept by `migrate_from_rasa` unless asked) are never mistaken for these. Events are
handled here as the dicts Rasa serialises them to (`Event.as_dict`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import redis

from teranga import redis_keys

DEFAULT_KEY_PREFIX = redis_keys.PREFIX
SESSION_START_ACTION = "action_session_start"


def tracker_keys(key_prefix: str, sender_id: str) -> tuple[str, str]:
    """The conversation's list of events, and its session start."""
    return (redis_keys.tracker_events(sender_id, key_prefix),
            redis_keys.tracker_session(sender_id, key_prefix))


@dataclass(frozen=True)
class Position:
    """The stored conversation as a reader or writer left it."""

    length: int  # the stored list's length
    start: int  # the stored session start


class ConversationChanged(redis.WatchError):
    """Someone appended to the conversation after this writer read it (two turns of one
    conversation at once: a process that lost its lock while Redis failed over, its reader
    stale). Written over, their events would be lost (bench/cluster.py lost a customer's
    message so); the writer's turn is tried again instead, on the stored conversation."""


class Plan(NamedTuple):
    """How `save` writes a conversation."""

    replace: bool  # write over what is stored, or append
    first_new: int  # the first event to write
    base: int  # the list index it gets
    current: int  # the session start if no new session begins
    publish_from: int  # the first event the broker has not had


def session_start(events: list[dict], index_of_first: int, current: int,
                  before_first: dict | None = None) -> int:
    """The list index where the latest session begins, given `events` will sit at
    `index_of_first` on, after `before_first`. As SQLTrackerStore's query (events stamped at
    or after the last `session_started`), the `action_session_start` logged just before it,
    and stamped after it, belongs to the session."""
    for position in range(len(events) - 1, -1, -1):
        if events[position].get("event") == "session_started":
            before = events[position - 1] if position else before_first or {}
            if before.get("event") == "action" and before.get("name") == SESSION_START_ACTION:
                position -= 1
            return index_of_first + position
    return current


class EventLog:
    """One conversation's events as a Redis list with its session start (see above)."""

    def __init__(self, client: redis.Redis, key_prefix: str | None = None,
                 record_exp: float | None = None) -> None:
        self.client = client
        self.key_prefix = key_prefix or DEFAULT_KEY_PREFIX
        self.record_exp = float(record_exp) if record_exp else None

    def keys(self, sender_id: str) -> tuple[str, str]:
        return tracker_keys(self.key_prefix, sender_id)

    def read(self, sender_id: str, whole: bool) -> tuple[list[dict], Position] | None:
        """The current session's events (every session's if `whole`) and where they end,
        or None for a conversation never stored."""
        events_key, session_key = self.keys(sender_id)
        while True:  # once, unless a rewrite moved the session start between the reads
            offset = 0 if whole else int(self.client.get(session_key) or 0)
            with self.client.pipeline() as pipe:
                start, raw = pipe.get(session_key).lrange(events_key, offset, -1).execute()
            if start is None:
                if not self._moved_from_rasa(sender_id):
                    return None
                continue
            if whole or int(start) == offset:
                break
        return [json.loads(e) for e in raw], Position(offset + len(raw), int(start))

    def _moved_from_rasa(self, sender_id: str) -> bool:
        """A conversation still in Rasa's RedisTrackerStore layout (written before this
        store was configured) is moved over on its first read, so that no returning customer
        starts from nothing where `teranga trackers migrate` was not run. Whether the
        conversation is now in this layout."""
        old_key = rasa_key_prefix(self.key_prefix) + sender_id
        if not self.client.exists(old_key):
            return False
        try:
            _migrate_one(self.client, old_key.encode(), self.keys(sender_id), False,
                         Migration())
        except redis.WatchError:  # written meanwhile: whoever did it moved it, or will
            pass
        return bool(self.client.exists(self.keys(sender_id)[1]))

    def exists(self, sender_id: str) -> bool:
        return bool(self.client.exists(self.keys(sender_id)[1]))

    def conversation_ids(self) -> list[str]:
        prefix = self.keys("")[1]
        return [key.decode()[len(prefix):]
                for key in self.client.scan_iter(match=glob_escape(prefix) + "*", count=1000)]

    def save(self, sender_id: str, events: Sequence[Any], as_dict: Callable[[Any], dict],
             known: tuple[Position, int] | None) -> tuple[Position, list[dict]]:
        """Write `events` (any objects `as_dict` serialises) in one MULTI: appended when
        `known` says where this writer left the stored list and how many of `events` (the
        first) were stored then, and the list has not changed since; else written over the
        stored conversation. The new position, and the events the broker has not had (those
        after the run the events share with what was stored). Someone else's write in
        between fails the MULTI (redis.WatchError) rather than being lost, and so do events
        appended since `known` was read (ConversationChanged)."""
        events_key, session_key = self.keys(sender_id)
        with self.client.pipeline() as pipe:
            pipe.watch(events_key, session_key)
            plan = self._plan(pipe, sender_id, events, as_dict, known)
            dumped = [as_dict(event) for event in events[plan.first_new:]]
            before = as_dict(events[plan.first_new - 1]) if plan.first_new else None
            start = session_start(dumped, plan.base, plan.current, before)
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
        return (Position(plan.base + len(dumped), start),
                dumped[plan.publish_from - plan.first_new:])

    def _plan(self, pipe, sender_id: str, events: Sequence[Any],
              as_dict: Callable[[Any], dict], known: tuple[Position, int] | None) -> Plan:
        events_key, session_key = self.keys(sender_id)
        length, stored_start = pipe.llen(events_key), pipe.get(session_key)
        if stored_start is None:  # a new conversation
            return Plan(replace=True, first_new=0, base=0, current=0, publish_from=0)
        if known and known[0] == Position(length, int(stored_start)) and \
                len(events) >= known[1]:
            return Plan(replace=False, first_new=known[1], base=length,
                        current=known[0].start, publish_from=known[1])
        if known and length > known[0].length:
            raise ConversationChanged(
                f"{sender_id}'s conversation got {length - known[0].length} event(s) since "
                "this writer read it: not written over")
        return Plan(replace=True, first_new=0, base=0, current=0,
                    publish_from=_shared(pipe, events_key, events, as_dict))


def _shared(pipe, events_key: str, events: Sequence[Any], as_dict: Callable) -> int:
    """How many of `events`, from the first, are the stored events."""
    stored = pipe.lrange(events_key, 0, len(events) - 1)
    count = 0
    for raw, event in zip(stored, events, strict=False):
        if json.loads(raw) != as_dict(event):
            break
        count += 1
    return count


def glob_escape(text: str) -> str:
    return "".join(f"\\{char}" if char in "\\*?[]" else char for char in text)


rasa_key_prefix = redis_keys.rasa_tracker


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
    for old_key in client.scan_iter(match=glob_escape(rasa_prefix) + "*", count=1000):
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
        start = session_start(events, 0, 0)
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
