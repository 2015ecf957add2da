"""The handoff's Redis-backed state in one object: ownership, the escalation queue, the
desk's records, agents' presence and status, the desk's deadlines and notices. Everything
here is asynchronous (redis.asyncio): the action server, the Rasa server and the desk all
call it from their event loops.

The agents file and the desk settings are read through `Reloading`: an operator's edit
applies at the next use, without a restart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import redis.asyncio as aioredis

from teranga import redis_keys
from teranga.desk_notices import NOTICES_LENGTH, notice
from teranga.handoff import satisfaction
from teranga.handoff.agents import Agent, AgentDirectory
from teranga.handoff.availability import (
    Availability,
    DeskSettings,
    Presence,
    availability,
    load_settings,
)
from teranga.handoff.ownership import Ownership
from teranga.handoff.queue import EscalationQueue
from teranga.handoff.records import (
    CLOSED_RECORD_SECONDS,
    ConversationRecord,
    ConversationRecords,
)
from teranga.redis_connections import async_redis
from teranga.reloading import Reloading
from teranga.settings import Settings

PARSED_RECORDS = 5000  # records kept parsed for the lists (a few MB)


class TimedSet:
    """A sorted set of conversations, each with a time: when an agent's first answer is due
    (awaiting answer), when its hand-back began (leaving)."""

    def __init__(self, client: aioredis.Redis, key: str) -> None:
        self.client = client
        self.key = key

    async def add(self, conversation_id: str, at: float) -> None:
        await self.client.zadd(self.key, {conversation_id: at})

    async def remove(self, conversation_id: str) -> bool:
        """True if it was there (and this caller took it out)."""
        return bool(await self.client.zrem(self.key, conversation_id))

    async def until(self, at: float) -> list[str]:
        """The conversations whose time is `at` or earlier."""
        return [m.decode() for m in await self.client.zrangebyscore(self.key, 0, at)]


# Set the message unless the one kept is newer: a desk process that lags behind another
# must not put an older message back.
_KEEP_NEWEST = """
local kept = redis.call('GET', KEYS[1])
if kept then
  local ok, message = pcall(cjson.decode, kept)
  if ok and type(message) == 'table' and tonumber(message['at'])
     and tonumber(message['at']) > tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
"""


class LastMessages:
    """The newest message of each escalated conversation, for the desk's list: written by
    every desk process as it reads the tracker events (the same value for the same event, so
    several processes agree; never an older one over a newer), read with the records in one
    MGET."""

    TEXT_CHARS = 140

    def __init__(self, client: aioredis.Redis, prefix: str = redis_keys.PREFIX) -> None:
        self.client = client
        self.prefix = prefix
        self._keep_newest = client.register_script(_KEEP_NEWEST)

    def key(self, conversation_id: str) -> str:
        return redis_keys.last_message(conversation_id, self.prefix)

    async def keep(self, conversation_id: str, sender: str, text: str, at: float) -> None:
        message = {"from": sender, "text": text[:self.TEXT_CHARS], "at": at}
        await self._keep_newest(keys=[self.key(conversation_id)],
                                args=[json.dumps(message, ensure_ascii=False), float(at or 0),
                                      CLOSED_RECORD_SECONDS])

    @staticmethod
    def parse(text: bytes | None) -> dict | None:
        try:
            message = json.loads(text) if text else None
        except ValueError:
            return None
        return message if isinstance(message, dict) else None


class AgentStatus:
    """"available" or "away", as each agent last said (or the desk, for one who did not
    answer in time)."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client

    async def available(self, agent_id: str) -> bool:
        return await self.client.get(redis_keys.agent_status(agent_id)) != b"away"

    async def set(self, agent_id: str, available: bool) -> None:
        await self.client.set(redis_keys.agent_status(agent_id),
                              "available" if available else "away")


@dataclass
class HandoffStore:
    client: aioredis.Redis
    ownership: Ownership
    queue: EscalationQueue
    records: ConversationRecords
    presence: Presence
    directory: Reloading[AgentDirectory]
    settings: Reloading[DeskSettings]
    awaiting_answer: TimedSet = field(init=False)
    answer_warnings: TimedSet = field(init=False)
    leaving: TimedSet = field(init=False)
    status: AgentStatus = field(init=False)
    last_messages: LastMessages = field(init=False)
    _parsed_records: dict[bytes, ConversationRecord] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.awaiting_answer = TimedSet(self.client, redis_keys.AWAITING_ANSWER)
        self.answer_warnings = TimedSet(self.client, redis_keys.ANSWER_WARNINGS)
        self.last_messages = LastMessages(self.client, self.records.prefix)
        self._parsed_records = {}
        self.leaving = TimedSet(self.client, redis_keys.LEAVING)
        self.status = AgentStatus(self.client)

    @classmethod
    def from_url(cls, url: str, agents_file: Path, desk_settings_file: Path,
                 socket_timeout: float = 2) -> HandoffStore:
        # A hung Redis must fail fast: actions run on the action server's event loop.
        client = async_redis(url, socket_timeout=socket_timeout, socket_connect_timeout=2)
        return cls(client, Ownership(client), EscalationQueue(client),
                   ConversationRecords(client), Presence(client),
                   Reloading(lambda: agents_file, AgentDirectory),
                   Reloading(lambda: desk_settings_file, load_settings))

    @classmethod
    def from_settings(cls, settings: Settings, socket_timeout: float = 2) -> HandoffStore:
        url = settings.redis_url
        if not url:
            raise RuntimeError("REDIS_URL is not set: the handoff queue needs Redis "
                               "(teranga demo sets it for the action server)")
        return cls.from_url(url, settings.agents_file, settings.desk_settings_file,
                            socket_timeout)

    @classmethod
    def from_env(cls) -> HandoffStore:
        return cls.from_settings(Settings.from_env())

    async def close(self) -> None:
        await self.client.close()

    # --- the agents file ---------------------------------------------------------------

    def agents(self) -> dict[str, Agent]:
        """The agents as the file says now (re-read when `teranga agents` changes it)."""
        return self.directory.get().agents

    def agent(self, agent_id: str) -> Agent | None:
        return self.agents().get(agent_id)

    async def load(self) -> dict[str, int]:
        return await self.ownership.load(self.agents())

    async def takes_conversations(self, agent: Agent) -> bool:
        """Available for new conversations: agents who said so; supervisors never (they
        are not assigned any, they take over)."""
        return agent.role != "supervisor" and await self.status.available(agent.id)

    def _parsed(self, text: bytes) -> ConversationRecord:
        """A record as read for a list, parsed once per version: with 500 waiting, parsing
        them all at each refresh of each desk was most of the list's time. Read-only: the
        lists never change a record (moves read and write through `records`)."""
        record = self._parsed_records.get(text)
        if record is None:
            if len(self._parsed_records) >= PARSED_RECORDS:
                self._parsed_records.clear()
            record = self._parsed_records[text] = ConversationRecord.from_json(text)
        return record

    # --- the answer clock ------------------------------------------------------------------

    async def expect_answer(self, conversation_id: str, due_at: float) -> None:
        """The holder must answer by `due_at` (else back to the queue); they are warned
        `answer_warning_seconds` before."""
        warning = self.settings.get().answer_warning_seconds
        await self.awaiting_answer.add(conversation_id, due_at)
        if warning > 0:
            await self.answer_warnings.add(conversation_id, due_at - warning)

    async def answer_not_expected(self, conversation_id: str) -> bool:
        """Answered, or no longer the agent's: no timeout, no warning. True if a deadline
        was there."""
        await self.answer_warnings.remove(conversation_id)
        return await self.awaiting_answer.remove(conversation_id)

    async def answer_due(self, conversation_id: str) -> float | None:
        return await self.client.zscore(self.awaiting_answer.key, conversation_id)

    async def answer_deadlines(self) -> dict[str, float]:
        """Every conversation awaiting its first answer, and when it goes back: one read."""
        members = await self.client.zrange(self.awaiting_answer.key, 0, -1, withscores=True)
        return {member.decode(): due for member, due in members}

    # --- what the desk's lists read ---------------------------------------------------------

    async def records_with_last(self, conversation_ids) -> tuple[
            dict[str, ConversationRecord], dict[str, dict]]:
        """The records of these conversations and their newest messages, in one MGET."""
        ids = list(conversation_ids)
        if not ids:
            return {}, {}
        texts = await self.client.mget([self.records.key(c) for c in ids]
                                       + [self.last_messages.key(c) for c in ids])
        records = {c: self._parsed(t) for c, t in zip(ids, texts[:len(ids)], strict=True) if t}
        last = {c: m for c, t in zip(ids, texts[len(ids):], strict=True)
                if (m := LastMessages.parse(t))}
        return records, last

    # --- what the customer is told -------------------------------------------------------

    async def availability(self, language: str, conversation_id: str) -> Availability:
        """What a customer joining the queue of `language` can expect now."""
        agents = self.agents()
        # One read for all: the queued set changes with ownership, in the same transaction.
        waiting = await self.records.get_many([c for c in await self.ownership.queued()
                                               if c != conversation_id])
        ahead = sum(r.language == language for r in waiting.values())
        load = await self.ownership.load(agents)
        return availability(language, self.settings.get(), agents.values(),
                            await self.presence.available(), load, ahead)

    # --- the desk's news, answers and the channels' records it shows ---------------------

    async def notify(self, kind: str, conversation_id: str, language: str | None, owner: str,
                     **extra) -> None:
        """A notice on the desks' live view: queued, assigned, requeued, returned..."""
        await self.client.xadd(redis_keys.DESK_NOTICES,
                               notice(kind, conversation_id, language, str(owner), **extra),
                               maxlen=NOTICES_LENGTH, approximate=True)

    async def read_news(self, last: dict[str, str], count: int = 500,
                        block_ms: int = 1000) -> list:
        """New entries of the tracker events and the desk notices, after `last` (stream ->
        last id read); blocks up to `block_ms`."""
        return await self.client.xread(last, count=count, block=block_ms) or []

    async def record_satisfaction(self, agent_id: str, satisfied: bool) -> None:
        await satisfaction.record(self.client, agent_id, satisfied)

    async def satisfaction(self) -> dict[str, dict[str, int]]:
        return await satisfaction.by_agent(self.client)
