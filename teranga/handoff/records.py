"""The desk's record of each escalated conversation, kept in Redis beside its ownership.

Built from the escalation stream (idempotently: an entry read twice changes nothing), so a
desk process that restarts, or a second one, sees the same records.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, fields

import redis
import redis.asyncio as aioredis

from teranga import redis_keys
from teranga.handoff.queue import Escalation

# A closed conversation's record stays this long for the supervisors' figures, then goes.
CLOSED_RECORD_SECONDS = 7 * 24 * 3600


@dataclass
class ConversationRecord:
    escalation: Escalation
    entry_ids: list[str] = field(default_factory=list)
    assigned_to: str | None = None
    assigned_at: float | None = None
    answered_at: float | None = None
    requeues: list[dict] = field(default_factory=list)  # {"agent", "at", "why"}
    closed_at: float | None = None
    # How the agent wrapped the episode up (desk/settings.yml `wrap_up_codes`), and free tags.
    wrap_up: str | None = None
    tags: list[str] = field(default_factory=list)
    closed_by: str | None = None  # the agent who closed or returned it

    @property
    def conversation_id(self) -> str:
        return self.escalation.conversation_id

    @property
    def language(self) -> str:
        return self.escalation.language

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: bytes | str) -> ConversationRecord:
        data = json.loads(text)
        known = {f.name for f in fields(cls)}  # a field a newer desk added is left aside
        return cls(**{**{k: v for k, v in data.items() if k in known},
                      "escalation": Escalation(**data["escalation"])})


def merged(record: ConversationRecord | None, entry_id: str,
           escalation: Escalation) -> ConversationRecord:
    """The record once this escalation entry is taken into account."""
    if record is None or record.closed_at is not None:  # a new episode
        return ConversationRecord(escalation, [entry_id])
    if entry_id in record.entry_ids:
        return record
    first = record.escalation
    latest = Escalation(**{**asdict(escalation), "created_at": first.created_at,
                           "reasons": list(dict.fromkeys(first.reasons + escalation.reasons))})
    return ConversationRecord(**{**record.__dict__, "escalation": latest,
                                 "entry_ids": record.entry_ids + [entry_id]})


class ConversationRecords:
    def __init__(self, client: aioredis.Redis, prefix: str = redis_keys.PREFIX) -> None:
        self.client = client
        self.prefix = prefix

    def key(self, conversation_id: str) -> str:
        return redis_keys.conversation_record(conversation_id, self.prefix)

    async def get(self, conversation_id: str) -> ConversationRecord | None:
        text = await self.client.get(self.key(conversation_id))
        return ConversationRecord.from_json(text) if text else None

    async def get_many(self, conversation_ids) -> dict[str, ConversationRecord]:
        conversation_ids = list(conversation_ids)
        if not conversation_ids:
            return {}
        texts = await self.client.mget([self.key(c) for c in conversation_ids])
        return {c: ConversationRecord.from_json(t)
                for c, t in zip(conversation_ids, texts, strict=True) if t}

    async def update(self, conversation_id: str, change) -> ConversationRecord | None:
        """Apply `change(record) -> record` atomically (optimistic, like ownership)."""
        key = self.key(conversation_id)
        async with self.client.pipeline() as pipe:
            while True:
                try:
                    await pipe.watch(key)
                    text = await pipe.get(key)
                    record = change(ConversationRecord.from_json(text) if text else None)
                    pipe.multi()
                    if record is not None:
                        expiry = CLOSED_RECORD_SECONDS if record.closed_at else None
                        pipe.set(key, record.to_json(), ex=expiry)
                    await pipe.execute()
                    return record
                except redis.WatchError:
                    continue

    async def add_entry(self, entry_id: str, escalation: Escalation) -> ConversationRecord:
        return await self.update(escalation.conversation_id,
                                 lambda record: merged(record, entry_id, escalation))

    async def assigned(self, conversation_id: str, agent_id: str) -> ConversationRecord | None:
        return await self.update(conversation_id, lambda r: r and _replace(
            r, assigned_to=agent_id, assigned_at=time.time(), answered_at=None))

    async def answered(self, conversation_id: str) -> ConversationRecord | None:
        return await self.update(conversation_id, lambda r: r and (
            r if r.answered_at else _replace(r, answered_at=time.time())))

    async def requeued(self, conversation_id: str, agent_id: str,
                       why: str) -> ConversationRecord | None:
        entry = {"agent": agent_id, "at": time.time(), "why": why}
        return await self.update(conversation_id, lambda r: r and _replace(
            r, assigned_to=None, assigned_at=None, answered_at=None,
            requeues=r.requeues + [entry]))

    async def closed(self, conversation_id: str, entry_ids: list[str],
                     wrap_up: str | None = None, tags: list[str] | None = None,
                     agent_id: str | None = None) -> ConversationRecord | None:
        """Closed (with the agent's wrap-up), unless an escalation arrived meanwhile (the
        customer asked again): then the record stays open for it."""
        return await self.update(conversation_id, lambda r: r and (
            _replace(r, closed_at=time.time(), wrap_up=wrap_up, tags=list(tags or []),
                     closed_by=agent_id)
            if r.entry_ids == entry_ids else r))

    async def moved_to_language(self, conversation_id: str,
                                language: str) -> ConversationRecord | None:
        """Transferred to another language's queue (the customer's language was misread, or
        another team takes it)."""
        return await self.update(conversation_id, lambda r: r and _replace(
            r, escalation=Escalation(**{**asdict(r.escalation), "language": language})))


def _replace(record: ConversationRecord, **changes) -> ConversationRecord:
    return ConversationRecord(**{**record.__dict__, **changes})
