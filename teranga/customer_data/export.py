"""`teranga privacy export`: everything held about one customer, as one JSON document, each
part with the Redis key it came from (the right of access)."""

from __future__ import annotations

import time
from typing import Any

import redis

from teranga.customer_data.customer import Customer
from teranga.customer_data.holdings import (
    Customers,
    OwnKey,
    decoded,
    holdings,
    readable,
    stream_entries,
)
from teranga.dialogue.event_log import EventLog

FORMAT = "teranga-customer-export/1"


def export(client: redis.Redis, customer: Customer) -> dict[str, Any]:
    log = EventLog(client)
    conversations = {}
    for cid in customer.conversation_ids:
        stored = log.read(cid, whole=True)
        if stored is not None:
            conversations[cid] = {"key": log.keys(cid)[0], "events": stored[0]}
    shown = {conversation["key"] for conversation in conversations.values()}
    keys: dict[str, Any] = {}
    shared: dict[str, list] = {}
    for _, held in holdings(client, Customers([customer])):
        if isinstance(held, OwnKey):
            if held.key not in shown:
                keys[held.key] = key_content(client, held.key)
            continue
        member = decoded(held.member) if held.kind in ("stream", "hash") else None
        shared.setdefault(held.key, []).append(
            {"type": held.kind, **({"entry": member} if member else {}), "value": held.value})
    return {"format": FORMAT, "exported_at": time.time(), "customer": customer.label,
            "conversation_ids": list(customer.conversation_ids),
            "conversations": conversations, "keys": keys, "shared_keys": shared}


def key_content(client: redis.Redis, key: str) -> dict[str, Any]:
    """A whole key, by type, as JSON."""
    kind = decoded(client.type(key))
    if kind == "string":
        value: Any = readable(client.get(key) or b"")
    elif kind == "list":
        value = [readable(item) for item in client.lrange(key, 0, -1)]
    elif kind == "hash":
        value = {decoded(f): readable(v) for f, v in client.hgetall(key).items()}
    elif kind == "set":
        value = sorted(decoded(m) for m in client.smembers(key))
    elif kind == "zset":
        value = [[decoded(m), s] for m, s in client.zrange(key, 0, -1, withscores=True)]
    elif kind == "stream":
        value = [{"entry": decoded(entry_id),
                  "fields": {decoded(f): readable(v) for f, v in fields.items()}}
                 for entry_id, fields in stream_entries(client, key)]
    else:
        value = None  # gone meanwhile
    ttl = client.ttl(key)
    return {"type": kind, "expires_in_seconds": ttl if ttl >= 0 else None, "value": value}
