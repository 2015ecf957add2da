"""Who owns each conversation: the bot, the queue, or one agent; recorded once, in Redis.

Every change is a compare-and-set in one Lua script, so two desk processes can never give
one conversation to two agents, and each agent's set of conversations (their load) moves in
the same step.
"""

from __future__ import annotations

import redis

BOT = "bot"
QUEUED = "queued"
AGENT_PREFIX = "agent:"

# KEYS[1] owner key, KEYS[2] prefix of agents' sets; ARGV[1] expected, ARGV[2] new, ARGV[3] id
_COMPARE_AND_SET = """
local current = redis.call('GET', KEYS[1]) or 'bot'
if current ~= ARGV[1] then return 0 end
if string.sub(current, 1, 6) == 'agent:' then
  redis.call('SREM', KEYS[2] .. string.sub(current, 7), ARGV[3])
end
if ARGV[2] == 'bot' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2]) end
if string.sub(ARGV[2], 1, 6) == 'agent:' then
  redis.call('SADD', KEYS[2] .. string.sub(ARGV[2], 7), ARGV[3])
end
return 1
"""


def agent_owner(agent_id: str) -> str:
    return f"{AGENT_PREFIX}{agent_id}"


class Ownership:
    def __init__(self, client: redis.Redis, prefix: str = "teranga") -> None:
        self.client = client
        self.prefix = prefix
        self._compare_and_set = client.register_script(_COMPARE_AND_SET)

    def _key(self, conversation_id: str) -> str:
        return f"{self.prefix}:owner:{conversation_id}"

    def _agents_prefix(self) -> str:
        return f"{self.prefix}:agent-conversations:"

    def owner(self, conversation_id: str) -> str:
        value = self.client.get(self._key(conversation_id))
        return value.decode() if value else BOT

    def change(self, conversation_id: str, expected: str, new: str) -> bool:
        """Set the owner to `new` only if it is `expected` now; True if it was changed."""
        return bool(self._compare_and_set(
            keys=[self._key(conversation_id), self._agents_prefix()],
            args=[expected, new, conversation_id]))

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
