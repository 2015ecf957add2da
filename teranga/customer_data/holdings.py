"""Where one customer's data is held in Redis: their own keys (named after a conversation id
or their phone number), and their entries in keys shared with other customers (the intake,
delivery, escalation, event and notice streams, the dead letters, the queued and waiting
sets, agents' loads, delivery-id lookups). docs/privacy.md lists them.

An entry of a shared key is the customer's when one of its fields, or a string inside a
field's JSON, IS one of their identifiers (exact match, never a substring): erasing `ana`
must not delete another customer's message that says "banana".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import redis

from teranga import redis_keys
from teranga.customer_data.customer import Customer

SCAN_COUNT = 1000
STREAM_BATCH = 1000


def exact_keys(conversation_id: str) -> list[str]:
    """Every key named after one conversation id alone."""
    cid = conversation_id
    return [redis_keys.tracker_events(cid), redis_keys.tracker_session(cid),
            redis_keys.rasa_tracker(redis_keys.PREFIX) + cid, redis_keys.rasa_lock(cid),
            f"{redis_keys.queue('intake')}:conversation:{cid}",
            f"{redis_keys.queue('delivery')}:conversation:{cid}",
            redis_keys.delivery_status(cid), redis_keys.delivery_parts(cid),
            redis_keys.OUTBOX + cid, redis_keys.WEBCHAT_TRANSCRIPT + cid,
            redis_keys.webchat_session(cid), redis_keys.owner(cid),
            redis_keys.conversation_record(cid), redis_keys.last_message(cid),
            redis_keys.conversation_notes(cid), redis_keys.privacy_notice_given(cid),
            redis_keys.secret_named(cid)]


# Keys that name a conversation beside something else, and how to read the id out of the
# rest of the name (the part after the base): the flood windows (`<id>:<window>`), the
# WhatsApp window and the offered options (`<channel>:<id>`), the web chat's dedupe keys
# (`<channel>:<id>:<widget message id>`: a widget's message id begins with its session id).
_BUILT_WITH = "\x00"
_NAMED_BESIDE = [
    (redis_keys.flood(_BUILT_WITH, 0).partition(_BUILT_WITH)[0],
     lambda rest: rest.rpartition(":")[0]),
    (redis_keys.last_inbound("", _BUILT_WITH).partition(_BUILT_WITH)[0].rstrip(":") + ":",
     lambda rest: rest.partition(":")[2]),
    (redis_keys.options("", _BUILT_WITH).partition(_BUILT_WITH)[0].rstrip(":") + ":",
     lambda rest: rest.partition(":")[2]),
    (redis_keys.seen("", _BUILT_WITH).partition(_BUILT_WITH)[0].rstrip(":") + ":",
     lambda rest: rest.partition(":")[2].rpartition(":")[0]),
]


class Customers:
    """Several customers looked for in one pass over the database (a purge erases many)."""

    def __init__(self, customers: list[Customer]) -> None:
        self.all = customers
        self.by_identifier = {identifier: customer for customer in customers
                              for identifier in customer.identifiers}
        self.by_key = {key: customer for customer in customers
                       for cid in customer.conversation_ids for key in exact_keys(cid)}
        self.by_key.update({redis_keys.customer_history(part): customer
                            for customer in customers for part in customer.history_keys})

    def owning(self, key: str) -> Customer | None:
        """The customer whose own key this is."""
        if key in self.by_key:
            return self.by_key[key]
        for base, conversation_in in _NAMED_BESIDE:
            if key.startswith(base):
                customer = self.by_identifier.get(conversation_in(key[len(base):]))
                return customer
        return None

    def named_in(self, value: Any) -> Customer | None:
        """The customer a stored value (bytes, or parsed JSON) is, or holds the id of (an
        exact match, never a substring)."""
        if isinstance(value, bytes):
            return self.named_in(readable(value))
        if isinstance(value, str):
            return self.by_identifier.get(value)
        if isinstance(value, dict):
            return next((found for k, v in value.items()
                         if (found := self.named_in(v) or self.named_in(k))), None)
        if isinstance(value, list):
            return next((found for v in value if (found := self.named_in(v))), None)
        return None


@dataclass(frozen=True)
class OwnKey:
    """A key named after the customer: all of it is theirs."""

    key: str


@dataclass(frozen=True)
class SharedEntry:
    """One of the customer's entries in a shared key. `member` is what removes it: a stream
    entry id, a list item, a set or zset member, a hash field; `value` what it holds."""

    key: str
    kind: str  # the Redis type: stream, list, set, zset, hash, string
    member: bytes
    value: Any


# Other conversations' own keys: what they hold is about their conversation alone.
_OTHERS_OWN = tuple(exact_keys("") + [redis_keys.customer_history("")])


def holdings(client: redis.Redis,
             customers: Customers) -> Iterator[tuple[Customer, OwnKey | SharedEntry]]:
    """Everything the customers have in the database, in one SCAN of every key."""
    for raw_key, kind in typed_keys(client):
        key = raw_key.decode("utf-8", "replace")
        owner = customers.owning(key)
        if owner is not None:
            yield owner, OwnKey(key)
            continue
        if key.startswith(_OTHERS_OWN):
            continue
        for member, value in _members(client, raw_key, kind):
            customer = customers.named_in(value)
            if customer is not None:
                yield customer, SharedEntry(key, kind, member, value)


def typed_keys(client: redis.Redis) -> Iterator[tuple[bytes, str]]:
    """Every key of the database with its type, a SCAN batch's types in one round trip."""
    cursor = 0
    while True:
        cursor, batch = client.scan(cursor, count=SCAN_COUNT)
        with client.pipeline(transaction=False) as pipe:
            for key in batch:
                pipe.type(key)
            kinds = pipe.execute()
        yield from zip(batch, (decoded(kind) for kind in kinds), strict=True)
        if cursor == 0:
            return


def decoded(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def readable(value: bytes | str) -> Any:
    """A stored value as JSON would show it: parsed when it is JSON, else the text."""
    text = decoded(value)
    if text[:1] in ("{", "[", '"'):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


def _members(client: redis.Redis, key: bytes, kind: str) -> Iterator[tuple[bytes, Any]]:
    """(how to remove it, what it holds) for each part of a key of any type."""
    if kind == "stream":
        for entry_id, fields in stream_entries(client, key):
            yield entry_id, {decoded(k): readable(v) for k, v in fields.items()}
    elif kind == "list":
        for item in client.lrange(key, 0, -1):
            yield item, readable(item)
    elif kind == "set":
        for member in client.sscan_iter(key, count=SCAN_COUNT):
            yield member, readable(member)
    elif kind == "zset":
        for member, _ in client.zscan_iter(key, count=SCAN_COUNT):
            yield member, readable(member)
    elif kind == "hash":
        for field, value in client.hscan_iter(key, count=SCAN_COUNT):
            yield field, [readable(field), readable(value)]
    elif kind == "string":
        value = client.get(key)
        if value is not None:
            yield b"", readable(value)


def stream_entries(client: redis.Redis, key: bytes | str) -> Iterator[tuple[bytes, dict]]:
    start = "-"
    while True:
        batch = client.xrange(key, min=start, count=STREAM_BATCH)
        yield from batch
        if len(batch) < STREAM_BATCH:
            return
        start = "(" + decoded(batch[-1][0])


def raw_parts(client: redis.Redis, key: bytes, kind: str) -> Iterator[bytes]:
    """Every byte string a key holds, for the proof scan."""
    if kind == "stream":
        for _, fields in stream_entries(client, key):
            for field, value in fields.items():
                yield field
                yield value
    elif kind == "hash":
        for field, value in client.hscan_iter(key, count=SCAN_COUNT):
            yield field
            yield value
    elif kind == "string":
        yield client.get(key) or b""
    else:
        for member, _ in _members(client, key, kind):
            yield member
