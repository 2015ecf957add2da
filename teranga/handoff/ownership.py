"""Who owns each conversation: the bot, the queue, or one agent; recorded once, in Redis.

Every change is a compare-and-set in one optimistic transaction (WATCH / MULTI / EXEC, which
the embedded server of `make demo` supports too, unlike scripts), so two desk processes can
never give one conversation to two agents, and each agent's set of conversations (their load)
moves in the same step.
"""

from __future__ import annotations

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

    def owner(self, conversation_id: str) -> str:
        value = self.client.get(self._key(conversation_id))
        return value.decode() if value else BOT

    def change(self, conversation_id: str, expected: str, new: str) -> bool:
        """Set the owner to `new` only if it is `expected` now; True if it was changed."""
        key = self._key(conversation_id)
        with self.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    current = pipe.get(key)
                    if (current.decode() if current else BOT) != expected:
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

    def escalate(self, conversation_id: str) -> bool:
        return self.change(conversation_id, BOT, QUEUED)

    def assign(self, conversation_id: str, agent_id: str) -> bool:
        return self.change(conversation_id, QUEUED, agent_owner(agent_id))

    def transfer(self, conversation_id: str, from_agent: str, to_agent: str) -> bool:
        return self.change(conversation_id, agent_owner(from_agent), agent_owner(to_agent))

    def requeue(self, conversation_id: str, agent_id: str) -> bool:
        return self.change(conversation_id, agent_owner(agent_id), QUEUED)

    def return_to_bot(self, conversation_id: str, agent_id: str) -> bool:
        return self.change(conversation_id, agent_owner(agent_id), BOT)

    def conversations_of(self, agent_id: str) -> set[str]:
        members = self.client.smembers(f"{self._agents_prefix()}{agent_id}")
        return {member.decode() for member in members}
