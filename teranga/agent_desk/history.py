"""A customer's earlier conversations with the desk, on any channel, so that an agent sees
"second time this week about the same transfer" without asking.

One customer, one key: their SMS (`+221…`) and WhatsApp (`whatsapp:+221…`) conversations
share a phone number; a Telegram chat, a web chat or a REST id stands alone
(teranga/conversation_ids.py). Each finished episode (closed, or returned to the bot) is
kept in a Redis list of at most HISTORY_LENGTH, newest first, which expires HISTORY_SECONDS
after the latest one. It holds personal data (the phone number in its key, a preview of
the customer's words) only because it serves that customer's next conversation; nothing
else reads it, and it goes by itself.
"""

from __future__ import annotations

import json
import logging
import time

import redis

from teranga import redis_keys
from teranga.agent_desk.context import lines_from_record, quote, wants
from teranga.agent_desk.notes import notes_closed
from teranga.conversation_ids import customer_key
from teranga.handoff.agents import Agent
from teranga.handoff.records import ConversationRecord
from teranga.handoff.store import HandoffStore

logger = logging.getLogger(__name__)

HISTORY_LENGTH = 20
HISTORY_SECONDS = 90 * 24 * 3600
PREVIEW_CHARS = 140


def episode(record: ConversationRecord, agent: Agent | str | None, closed_at: float) -> dict:
    """What is remembered of one hand-over. `wrap_up` and `tags` are the record's when the
    agent gave them at close."""
    escalation = record.escalation
    tags = getattr(record, "tags", None)
    return {"conversation_id": record.conversation_id, "channel": escalation.channel,
            "started_at": escalation.created_at, "closed_at": record.closed_at or closed_at,
            "agent_name": getattr(agent, "name", None) or (agent if isinstance(agent, str)
                                                           else record.assigned_to),
            "wrap_up": getattr(record, "wrap_up", None),
            "tags": list(tags) if isinstance(tags, (list, tuple)) else [],
            "reasons": list(escalation.reasons),
            "preview": quote(wants(lines_from_record(record)), PREVIEW_CHARS)}


def _same_episode(entry: dict, conversation_id: str, started_at: float) -> bool:
    return (entry.get("conversation_id") == conversation_id
            and entry.get("started_at") == started_at)


async def remember_episode(store: HandoffStore, record: ConversationRecord,
                           agent: Agent | str | None) -> None:
    """Keep this finished episode in its customer's history (once, however often called),
    and start the expiry of the conversation's notes, like its record's. Best effort: a
    close must not fail because its history could not be written."""
    entry = episode(record, agent, time.time())
    key = redis_keys.customer_history(customer_key(record.conversation_id))
    try:
        async with store.client.pipeline() as pipe:
            while True:
                try:
                    await pipe.watch(key)
                    known = [_parsed(text) for text in await pipe.lrange(key, 0, -1)]
                    if any(_same_episode(e, entry["conversation_id"], entry["started_at"])
                           for e in known):
                        break
                    pipe.multi()
                    pipe.lpush(key, json.dumps(entry, ensure_ascii=False))
                    pipe.ltrim(key, 0, HISTORY_LENGTH - 1)
                    pipe.expire(key, HISTORY_SECONDS)
                    await pipe.execute()
                    break
                except redis.WatchError:
                    continue
        await notes_closed(store, record.conversation_id)
    except redis.RedisError:
        logger.exception("Could not remember the episode of %s", record.conversation_id)


async def history_for(store: HandoffStore, record: ConversationRecord) -> list[dict]:
    """The customer's earlier episodes, newest first, without the one open now."""
    key = redis_keys.customer_history(customer_key(record.conversation_id))
    entries = [_parsed(text) for text in await store.client.lrange(key, 0, HISTORY_LENGTH - 1)]
    return [e for e in entries if e and not _same_episode(
        e, record.conversation_id, record.escalation.created_at)]


def _parsed(text: bytes) -> dict:
    try:
        entry = json.loads(text)
    except ValueError:  # never written by us; not worth failing the context for
        return {}
    return entry if isinstance(entry, dict) else {}
