"""Who owns each conversation: the bot, the queue, or one agent; recorded once, in Redis.

Every change is a compare-and-set in one optimistic transaction (WATCH / MULTI / EXEC, which
the embedded server of `make demo` supports too, unlike scripts), so two desk processes can
never give one conversation to two agents, and each agent's set of conversations (their load)
moves in the same step.
"""

from __future__ import annotations

import time

import redis
import redis.asyncio as aioredis

from teranga import redis_keys
from teranga.observability import metrics

BOT = "bot"
QUEUED = "queued"
AGENT_PREFIX = "agent:"


class Owner(str):
    """An owner as stored ("bot", "queued" or "agent:<id>"), parsed once: still the string
    (the desk's JSON shows it as it is), and asked what it means by property."""

    __slots__ = ()

    @classmethod
    def parse(cls, stored: bytes | str | None) -> Owner:
        """The value of an owner key; no key means the bot."""
        if not stored:
            return cls(BOT)
        return cls(stored.decode() if isinstance(stored, bytes) else stored)

    @classmethod
    def agent(cls, agent_id: str) -> Owner:
        return cls(f"{AGENT_PREFIX}{agent_id}")

    @property
    def is_bot(self) -> bool:
        return self == BOT

    @property
    def is_queued(self) -> bool:
        return self == QUEUED

    @property
    def is_agent(self) -> bool:
        return self.startswith(AGENT_PREFIX)

    @property
    def agent_id(self) -> str | None:
        """The agent's id if an agent owns it, else None."""
        return self.removeprefix(AGENT_PREFIX) if self.is_agent else None


def agent_owner(agent_id: str) -> Owner:
    return Owner.agent(agent_id)


class Ownership:
    def __init__(self, client: aioredis.Redis, prefix: str = redis_keys.PREFIX) -> None:
        self.client = client
        self.prefix = prefix

    def _key(self, conversation_id: str) -> str:
        return redis_keys.owner(conversation_id, self.prefix)

    def _load_key(self, agent_id: str) -> str:
        return redis_keys.agent_conversations(agent_id, self.prefix)

    @property
    def queued_key(self) -> str:
        """Sorted set of the conversations waiting for an agent, scored by time queued."""
        return redis_keys.queued(self.prefix)

    async def owner(self, conversation_id: str) -> Owner:
        return Owner.parse(await self.client.get(self._key(conversation_id)))

    async def change(self, conversation_id: str, expected: str, new: str,
                     max_load: int | None = None) -> bool:
        """Set the owner to `new` only if it is `expected` now (and, for an agent, only if
        they hold fewer than `max_load` conversations); True if it was changed."""
        key, old, new = self._key(conversation_id), Owner(expected), Owner(new)
        load_key = self._load_key(new.agent_id) if new.is_agent else None
        async with self.client.pipeline() as pipe:
            while True:
                try:
                    await pipe.watch(key, *([load_key] if load_key else []))
                    current = Owner.parse(await pipe.get(key))
                    if current != old or (load_key and max_load is not None
                                          and await pipe.scard(load_key) >= max_load):
                        await pipe.unwatch()
                        return False
                    pipe.multi()
                    self._write(pipe, conversation_id, old, new)
                    await pipe.execute()
                    return True
                except redis.WatchError:  # someone else changed it first: look again
                    continue

    def _write(self, pipe, conversation_id: str, old: Owner, new: Owner) -> None:
        if old.is_agent:
            pipe.srem(self._load_key(old.agent_id), conversation_id)
        if new.is_bot:
            pipe.delete(self._key(conversation_id))
        else:
            pipe.set(self._key(conversation_id), str(new))
        if new.is_agent:
            pipe.sadd(self._load_key(new.agent_id), conversation_id)
        if new.is_queued:
            pipe.zadd(self.queued_key, {conversation_id: time.time()})
        elif old.is_queued:
            pipe.zrem(self.queued_key, conversation_id)

    async def escalate(self, conversation_id: str) -> bool:
        return await self.change(conversation_id, BOT, QUEUED)

    async def assign(self, conversation_id: str, agent_id: str,
                     max_load: int | None = None) -> bool:
        queued_at = await self.client.zscore(self.queued_key, conversation_id)
        taken = await self.change(conversation_id, QUEUED, Owner.agent(agent_id), max_load)
        if taken and queued_at is not None:
            metrics.taken_by_agent(queued_at)
        return taken

    async def transfer(self, conversation_id: str, from_agent: str, to_agent: str,
                       max_load: int | None = None) -> bool:
        return await self.change(conversation_id, Owner.agent(from_agent),
                                 Owner.agent(to_agent), max_load)

    async def requeue(self, conversation_id: str, agent_id: str) -> bool:
        return await self.change(conversation_id, Owner.agent(agent_id), QUEUED)

    async def return_to_bot(self, conversation_id: str, agent_id: str) -> bool:
        """Hand back or close: either way the bot answers the customer's next message."""
        return await self.change(conversation_id, Owner.agent(agent_id), BOT)

    async def waiting(self) -> int:
        """How many conversations wait for an agent."""
        return await self.client.zcard(self.queued_key)

    async def queued(self) -> dict[str, float]:
        """Waiting conversations and when each entered the queue."""
        members = await self.client.zrange(self.queued_key, 0, -1, withscores=True)
        return {member.decode(): score for member, score in members}

    async def holders(self) -> set[str]:
        """Every agent holding at least one conversation, whether or not still in the
        agents file."""
        prefix = self._load_key("")
        return {key.decode().removeprefix(prefix)
                async for key in self.client.scan_iter(f"{prefix}*")
                if await self.client.scard(key)}

    async def load(self, agent_ids) -> dict[str, int]:
        """How many conversations each of these agents holds, in one round trip."""
        agent_ids = list(agent_ids)
        async with self.client.pipeline(transaction=False) as pipe:
            for agent_id in agent_ids:
                pipe.scard(self._load_key(agent_id))
            return dict(zip(agent_ids, await pipe.execute(), strict=True))

    async def conversations_of(self, agent_id: str) -> set[str]:
        return {member.decode() for member in await self.client.smembers(self._load_key(agent_id))}

    async def holders_of(self, agent_ids) -> dict[str, str]:
        """Conversation -> agent, for every conversation these agents hold: one round trip."""
        agent_ids = list(agent_ids)
        async with self.client.pipeline(transaction=False) as pipe:
            for agent_id in agent_ids:
                pipe.smembers(self._load_key(agent_id))
            held = await pipe.execute()
        return {member.decode(): agent_id
                for agent_id, members in zip(agent_ids, held, strict=True) for member in members}

    async def held(self, agent_ids) -> set[str]:
        """Every conversation these agents hold."""
        return {c for agent_id in agent_ids for c in await self.conversations_of(agent_id)}
