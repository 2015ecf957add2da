"""Conversations older than the retention period are erased (`teranga privacy purge`, run
daily by cron: docs/privacy.md). A conversation's age is its tracker's last event time; an
SMS and a WhatsApp conversation with one number are one customer, purged when both are old.
A conversation an agent holds now is left for a later purge. Anonymous aggregates stay."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field

import redis

from teranga.customer_data.customer import Customer, customer_of
from teranga.customer_data.erase import erase_many, holders
from teranga.dialogue.event_log import EventLog

logger = logging.getLogger(__name__)
DAY_SECONDS = 86400
BATCH = 1000  # customers erased per pass over the database


@dataclass
class Purge:
    erased: list[str] = field(default_factory=list)  # customers
    kept_held: list[str] = field(default_factory=list)  # old, but an agent holds them
    kept_recent: int = 0  # conversations still within the period


def last_event_time(client: redis.Redis, log: EventLog, conversation_id: str) -> float | None:
    """When the conversation last changed, or None when it has no event with a time."""
    newest = client.lindex(log.keys(conversation_id)[0], -1)
    try:
        stamp = json.loads(newest)["timestamp"] if newest else None
    except (ValueError, TypeError, KeyError):
        return None
    return float(stamp) if isinstance(stamp, (int, float)) else None


def old_customers(client: redis.Redis, retention_days: int,
                  now: float | None = None) -> tuple[list[Customer], int]:
    """The customers all of whose conversations ended before the period, and how many
    conversations are recent."""
    cutoff = (now if now is not None else time.time()) - retention_days * DAY_SECONDS
    log = EventLog(client)
    customers: dict[str, Customer] = {}
    recent: set[str] = set()  # customers (by label) with a recent conversation
    recent_count = 0
    for cid in log.conversation_ids():
        try:
            customer = customer_of(cid)
        except ValueError:  # an id no channel accepts today: judged alone
            customer = Customer((cid,))
        customers.setdefault(customer.label, customer)
        last = last_event_time(client, log, cid)
        if last is None or last >= cutoff:
            recent.add(customer.label)
            recent_count += 1
    old = [customer for label, customer in customers.items() if label not in recent]
    return old, recent_count


def _written_since(client: redis.Redis, log: EventLog, customer: Customer,
                   cutoff: float) -> bool:
    return any((last := last_event_time(client, log, cid)) is not None and last >= cutoff
               for cid in customer.conversation_ids)


def purge(client: redis.Redis, retention_days: int, now: float | None = None) -> Purge:
    """Erase every customer whose conversations are all older than `retention_days`
    (0: keep forever, nothing is purged)."""
    result = Purge()
    if retention_days <= 0:
        return result
    old, result.kept_recent = old_customers(client, retention_days, now)
    cutoff = (now if now is not None else time.time()) - retention_days * DAY_SECONDS
    log = EventLog(client)
    erasable = []
    for customer in old:
        if _written_since(client, log, customer, cutoff):  # they came back meanwhile
            result.kept_recent += 1
        elif holders(client, customer):
            result.kept_held.append(customer.label)
        else:
            erasable.append(customer)
    for start in range(0, len(erasable), BATCH):  # one pass over the database per batch
        batch = erasable[start:start + BATCH]
        erase_many(client, batch)
        result.erased += [customer.label for customer in batch]
    if result.erased:
        logger.info("purged %d customer(s) silent for over %d days", len(result.erased),
                    retention_days)
    return result
