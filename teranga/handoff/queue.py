"""The escalation queue: a Redis Stream read by the desk through a consumer group.

An escalation stays pending in the group until the desk acknowledges it (when an agent
closes the conversation or hands it back), so a desk that restarts finds everything it had
not finished, and a dead desk's entries are claimed by a living one.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field

import redis
import redis.asyncio as aioredis

from teranga import redis_keys

STREAM = redis_keys.ESCALATIONS
GROUP = "desk"


@dataclass
class Escalation:
    """Everything an agent needs so that the customer never repeats themselves."""

    conversation_id: str
    channel: str
    customer: str
    language: str
    reasons: list[str]
    sentiment: dict = field(default_factory=dict)  # {"label", "score"}
    last_messages: list[dict] = field(default_factory=list)  # {"from", "text", "at"}
    top_intents: list[dict] = field(default_factory=list)  # {"name", "confidence"}
    kb_candidates: list[dict] = field(default_factory=list)  # {"article_id", "title", "score"}
    skill: str | None = None  # what the agent should know (desk/settings.yml `skills`)
    created_at: float = field(default_factory=time.time)

    def to_fields(self) -> dict[str, str]:
        return {"conversation_id": self.conversation_id, "language": self.language,
                "data": json.dumps(asdict(self), ensure_ascii=False)}

    @classmethod
    def from_fields(cls, fields: dict[bytes, bytes]) -> Escalation:
        return cls(**json.loads(fields[b"data"]))


class EscalationQueue:
    def __init__(self, client: aioredis.Redis, stream: str = STREAM, group: str = GROUP) -> None:
        self.client = client
        self.stream = stream
        self.group = group

    async def ensure_group(self) -> None:
        """Create the stream and its consumer group unless they exist (a Redis that lost its
        data, one without persistence that restarted, has neither). The desk does at
        start-up; a read that finds no group does too, and reads again."""
        try:
            await self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def publish(self, escalation: Escalation) -> str:
        return (await self.client.xadd(self.stream, escalation.to_fields())).decode()

    async def read_new(self, consumer: str, count: int = 100,
                       block_ms: int | None = None) -> list[tuple[str, Escalation]]:
        """Escalations no desk process has seen yet; they become this consumer's pending."""
        return await self._read(consumer, ">", count, block_ms)

    async def read_pending(self, consumer: str,
                           count: int = 1000) -> list[tuple[str, Escalation]]:
        """What this consumer had read but not acknowledged: a restarted desk starts here."""
        return await self._read(consumer, "0", count, None)

    async def _read(self, consumer, start, count, block_ms,
                    retry: bool = True) -> list[tuple[str, Escalation]]:
        try:
            replies = await self.client.xreadgroup(self.group, consumer, {self.stream: start},
                                                   count=count, block=block_ms)
        except redis.ResponseError as error:
            if "NOGROUP" not in str(error) and "no longer exists" not in str(error):
                raise
            await self.ensure_group()  # from the stream's start: nothing published is missed
            return await self._read(consumer, start, count, block_ms, False) if retry else []
        return [(entry_id.decode(), Escalation.from_fields(fields))
                for _stream, entries in replies or [] for entry_id, fields in entries
                if fields]  # an entry deleted while pending comes back without fields

    async def claim_abandoned(self, consumer: str,
                              min_idle_ms: int) -> list[tuple[str, Escalation]]:
        """Take over the entries another desk process read and left idle (it died)."""
        _next, entries, *_deleted = await self.client.xautoclaim(
            self.stream, self.group, consumer, min_idle_time=min_idle_ms, start_id="0-0",
            count=1000)
        return [(entry_id.decode(), Escalation.from_fields(fields))
                for entry_id, fields in entries if fields]

    async def ack(self, entry_id: str) -> None:
        await self.client.xack(self.stream, self.group, entry_id)

    async def pending_count(self) -> int:
        return int((await self.client.xpending(self.stream, self.group))["pending"])
