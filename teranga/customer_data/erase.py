"""`teranga privacy erase`: remove one customer from every store, then prove it by scanning
every key and every value of the database for their ids and phone number.

What is removed: the customer's own keys (holdings.OwnKey), their entries in shared keys
(stream entries are acknowledged in every consumer group, then deleted, so that no desk or
worker takes them up again), and the dedupe keys of their messages still queued. What stays:
anonymous aggregates (the satisfaction counts per agent name no customer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import redis

from teranga import redis_keys
from teranga.customer_data.customer import Customer
from teranga.customer_data.holdings import (
    Customers,
    OwnKey,
    SharedEntry,
    decoded,
    holdings,
    raw_parts,
    typed_keys,
)
from teranga.handoff.ownership import Owner

INTAKE = redis_keys.queue("intake")


class HeldByAgent(Exception):
    """The customer is in an agent's hands right now."""

    def __init__(self, holders: dict[str, str]) -> None:
        self.holders = holders
        named = ", ".join(f"{cid} (agent {agent})" for cid, agent in holders.items())
        super().__init__(
            f"an agent holds this customer's conversation now: {named}. Let the agent close "
            "it first, or pass --force (the agent's open conversation then disappears from "
            "the desk, and anything the customer writes meanwhile starts a new conversation)")


@dataclass
class Erased:
    keys: list[str] = field(default_factory=list)
    entries: dict[str, int] = field(default_factory=dict)  # shared key -> entries removed


@dataclass
class Proof:
    """What still mentions the customer after erasing: keys named after them, and values
    (key, how many of its parts) that hold their id or number."""

    pattern: str
    keys: list[str] = field(default_factory=list)
    values: dict[str, int] = field(default_factory=dict)
    log_files: dict[str, int] = field(default_factory=dict)  # file -> lines mentioning

    @property
    def clean(self) -> bool:
        return not self.keys and not self.values

    def summary(self, label: str) -> str:
        return f"{len(self.keys)} keys, {sum(self.values.values())} values mention {label}"


def holders(client: redis.Redis, customer: Customer) -> dict[str, str]:
    """The customer's conversations an agent holds: conversation id -> agent id."""
    owners = client.mget([redis_keys.owner(cid) for cid in customer.conversation_ids])
    return {cid: Owner.parse(stored).agent_id
            for cid, stored in zip(customer.conversation_ids, owners, strict=True)
            if Owner.parse(stored).is_agent}


def erase(client: redis.Redis, customer: Customer, force: bool = False) -> Erased:
    """Remove the customer everywhere. HeldByAgent unless `force` when an agent holds one
    of their conversations."""
    held = holders(client, customer)
    if held and not force:
        raise HeldByAgent(held)
    return erase_many(client, [customer])[customer.label]


def erase_many(client: redis.Redis, customers: list[Customer]) -> dict[str, Erased]:
    """Remove several customers in one pass over the database (the caller has checked
    that no agent holds them), by customer label."""
    erased = {customer.label: Erased() for customer in customers}
    found = list(holdings(client, Customers(customers)))
    groups: dict[str, list[str]] = {}  # stream -> its consumer groups
    for customer, held in found + _seen_keys(client, found):
        if isinstance(held, OwnKey):
            client.delete(held.key)
            erased[customer.label].keys.append(held.key)
        elif _remove(client, held, groups):
            entries = erased[customer.label].entries
            entries[held.key] = entries.get(held.key, 0) + 1
    return erased


def _seen_keys(client: redis.Redis, found: list[tuple[Customer, OwnKey | SharedEntry]]
               ) -> list[tuple[Customer, OwnKey]]:
    """The dedupe keys of the customers' messages still in the intake stream (the key holds
    the provider's message id, which the entry links to the customer)."""
    keys = [(customer, OwnKey(redis_keys.seen(str(held.value.get("channel")),
                                              str(held.value["message_id"]))))
            for customer, held in found
            if isinstance(held, SharedEntry) and held.key == INTAKE and held.kind == "stream"
            and isinstance(held.value.get("message_id"), str)]
    return [(customer, own) for customer, own in keys if client.exists(own.key)]


def _remove(client: redis.Redis, entry: SharedEntry, groups: dict[str, list[str]]) -> bool:
    key, member = entry.key, entry.member
    if entry.kind == "stream":
        if key not in groups:
            groups[key] = _groups(client, key)
        for group in groups[key]:
            client.xack(key, group, member)
        return bool(client.xdel(key, member))
    if entry.kind == "list":
        return bool(client.lrem(key, 0, member))
    if entry.kind == "set":
        return bool(client.srem(key, member))
    if entry.kind == "zset":
        return bool(client.zrem(key, member))
    if entry.kind == "hash":
        return bool(client.hdel(key, member))
    return bool(client.delete(key))  # a string: the whole value is about the customer


def _groups(client: redis.Redis, key: str) -> list[str]:
    try:
        return [decoded(group["name"]) for group in client.xinfo_groups(key)]
    except redis.ResponseError:  # no group on this stream
        return []


def prove(client: redis.Redis, customer: Customer, logs_dir: Path | None = None) -> Proof:
    """Scan every key and every value of the database (and the log files, when named) for
    the customer's conversation ids and phone number."""
    pattern = customer.mention_pattern()
    proof = Proof(pattern.pattern.decode())
    for raw_key, kind in typed_keys(client):
        key = raw_key.decode("utf-8", "replace")
        if pattern.search(raw_key):
            proof.keys.append(key)
            continue
        found = sum(1 for part in raw_parts(client, raw_key, kind) if pattern.search(part))
        if found:
            proof.values[key] = found
    if logs_dir is not None:
        proof.log_files = _mentions_in_logs(logs_dir, pattern)
    return proof


def _mentions_in_logs(logs_dir: Path, pattern: re.Pattern[bytes]) -> dict[str, int]:
    """Log files are not rewritten (docs/privacy.md): they are named, for the operator."""
    found = {}
    for path in sorted(logs_dir.rglob("*")) if logs_dir.is_dir() else []:
        if path.is_file():
            with path.open("rb") as lines:
                count = sum(1 for line in lines if pattern.search(line))
            if count:
                found[str(path)] = count
    return found
