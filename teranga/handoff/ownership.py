"""Who owns each conversation: the bot, the queue, or one agent; recorded once, in Redis.

Every change is a compare-and-set in one optimistic transaction (WATCH / MULTI / EXEC, which
the embedded server of `make demo` supports too, unlike scripts), so two desk processes can
never give one conversation to two agents, and each agent's set of conversations (their load)
moves in the same step.
"""

from __future__ import annotations

import time

import redis

BOT = "bot"
QUEUED = "queued"
AGENT_PREFIX = "agent:"

def agent_owner(agent_id: str) -> str:
    return f"{AGENT_PREFIX}{agent_id}"


class Ownership:
    def __init__(self, client: redis.Redis, prefix: str = "teranga") -> None:
        self.client = client
        self.prefix = prefix

    def _key(self, conversation_id: str) -> str:
        return f"{self.prefix}:owner:{conversation_id}"

    def _agents_prefix(self) -> str:
        return f"{self.prefix}:agent-conversations:"

    @property
    def queued_key(self) -> str:
        """Sorted set of the conversations waiting for an agent, scored by time queued."""
        return f"{self.prefix}:queued"

    def owner(self, conversation_id: str) -> str:
        value = self.client.get(self._key(conversation_id))
        return value.decode() if value else BOT

    def change(self, conversation_id: str, expected: str, new: str,
               max_load: int | None = None) -> bool:
        """Set the owner to `new` only if it is `expected` now (and, for an agent, only if
        they hold fewer than `max_load` conversations); True if it was changed."""
        key = self._key(conversation_id)
        load_key = self._agents_prefix() + new[len(AGENT_PREFIX):]
        with self.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key, load_key)
                    current = pipe.get(key)
                    if (current.decode() if current else BOT) != expected or (
                            max_load is not None and pipe.scard(load_key) >= max_load):
                        pipe.unwatch()
                        return False
                    pipe.multi()
                    self._write(pipe, conversation_id, expected, new)
                    pipe.execute()
                    return True
                except redis.WatchError:  # someone else changed it first: look again
                    continue

    def _write(self, pipe, conversation_id: str, old: str, new: str) -> None:
        if old.startswith(AGENT_PREFIX):
            pipe.srem(self._agents_prefix() + old[len(AGENT_PREFIX):], conversation_id)
        if new == BOT:
            pipe.delete(self._key(conversation_id))
        else:
            pipe.set(self._key(conversation_id), new)
        if new.startswith(AGENT_PREFIX):
            pipe.sadd(self._agents_prefix() + new[len(AGENT_PREFIX):], conversation_id)
        if new == QUEUED:
            pipe.zadd(self.queued_key, {conversation_id: time.time()})
        elif old == QUEUED:
            pipe.zrem(self.queued_key, conversation_id)

    def escalate(self, conversation_id: str) -> bool:
        return self.change(conversation_id, BOT, QUEUED)

    def assign(self, conversation_id: str, agent_id: str, max_load: int | None = None) -> bool:
        return self.change(conversation_id, QUEUED, agent_owner(agent_id), max_load)

    def transfer(self, conversation_id: str, from_agent: str, to_agent: str,
                 max_load: int | None = None) -> bool:
        return self.change(conversation_id, agent_owner(from_agent), agent_owner(to_agent),
                           max_load)

    def requeue(self, conversation_id: str, agent_id: str) -> bool:
        return self.change(conversation_id, agent_owner(agent_id), QUEUED)

    def return_to_bot(self, conversation_id: str, agent_id: str) -> bool:
        """Hand back or close: either way the bot answers the customer's next message."""
        return self.change(conversation_id, agent_owner(agent_id), BOT)

    def queued(self) -> dict[str, float]:
        """Waiting conversations and when each entered the queue."""
        return {member.decode(): score
                for member, score in self.client.zrange(self.queued_key, 0, -1, withscores=True)}

    def holders(self) -> set[str]:
        """Every agent holding at least one conversation, whether or not still in the
        agents file."""
        prefix = self._agents_prefix()
        return {key.decode()[len(prefix):] for key in self.client.scan_iter(f"{prefix}*")
                if self.client.scard(key)}

    def load(self, agent_ids) -> dict[str, int]:
        """How many conversations each of these agents holds, in one round trip."""
        agent_ids = list(agent_ids)
        with self.client.pipeline(transaction=False) as pipe:
            for agent_id in agent_ids:
                pipe.scard(self._agents_prefix() + agent_id)
            return dict(zip(agent_ids, pipe.execute(), strict=True))

    def conversations_of(self, agent_id: str) -> set[str]:
        members = self.client.smembers(f"{self._agents_prefix()}{agent_id}")
        return {member.decode() for member in members}
