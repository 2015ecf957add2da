"""What the desk does: take escalations in, route them to agents, and carry out agents'
actions (claim, reply, transfer, hand back, close), each checked against who may do it.

All state is in Redis (ownership, records, presence) and in Rasa's tracker, so any number of
desk processes can serve agents at once, and one that restarts loses nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from teranga.agent_desk.rasa_api import RasaApi
from teranga.channels.delivery import DEAD_LETTERS
from teranga.channels.delivery_status import message_key
from teranga.channels.delivery_status import statuses as delivery_statuses
from teranga.channels.whatsapp_window import closed_reason
from teranga.corpora import nlu_languages
from teranga.desk_notices import NOTICES_LENGTH, NOTICES_STREAM, notice
from teranga.handoff import satisfaction
from teranga.handoff.agents import Agent, AgentDirectory, agents_file
from teranga.handoff.availability import DeskSettings, Presence
from teranga.handoff.ownership import AGENT_PREFIX, BOT, QUEUED, Ownership, agent_owner
from teranga.handoff.queue import EscalationQueue
from teranga.handoff.records import ConversationRecord, ConversationRecords
from teranga.handoff.routing import Waiting, eligible_agent, queue_order
from teranga.handoff.triggers import CALLBACK_REQUESTED, NEGATIVE_SENTIMENT
from teranga.reloading import Reloading
from teranga.settings import PROJECT_ROOT

logger = logging.getLogger(__name__)

AWAITING_ANSWER = "teranga:desk:awaiting-answer"  # conversation -> deadline for a first reply
LEAVING = "teranga:desk:leaving"  # conversation -> when its hand-back began
LEAVING_GRACE_SECONDS = 60  # a hand-back still unfinished after this was cut short
STATUS_PREFIX = "teranga:desk:status:"  # agent -> "available" or "away", as they said
MAX_REPLY_CHARS = 4096
# Entries another desk process read and left this long are taken over at start-up.
ABANDONED_AFTER_MS = 60_000
HANDED_BACK_INTENT = "handed_back"
# The languages the assistant speaks, one NLU file each: the queues a conversation can join.
ASSISTANT_LANGUAGES = nlu_languages(PROJECT_ROOT / "data" / "nlu")


class DeskError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Desk:
    client: redis.Redis
    rasa: RasaApi
    settings: DeskSettings
    consumer: str
    agents_path: Path = field(default_factory=agents_file)

    def __post_init__(self) -> None:
        self.ownership = Ownership(self.client)
        self.queue = EscalationQueue(self.client)
        self.records = ConversationRecords(self.client)
        self.presence = Presence(self.client)
        self._directory = Reloading(lambda: self.agents_path, AgentDirectory)

    # --- agents ----------------------------------------------------------------------------

    @property
    def directory(self) -> AgentDirectory:
        """The agents file, re-read when `teranga agents` changes it."""
        return self._directory.get()

    def agent(self, agent_id: str) -> Agent | None:
        return self.directory.agents.get(agent_id)

    def load(self) -> dict[str, int]:
        return self.ownership.load(self.directory.agents)

    # --- who sees what ----------------------------------------------------------------------

    @staticmethod
    def can_see(agent: Agent, owner: str, language: str) -> bool:
        """Supervisors see everything; agents their own conversations and the waiting ones
        in their languages."""
        return (agent.role == "supervisor" or owner == agent_owner(agent.id)
                or (owner == QUEUED and language in agent.languages))

    def _visible_record(self, conversation_id: str, agent: Agent) -> tuple[ConversationRecord, str]:
        record = self.records.get(conversation_id)
        owner = self.ownership.owner(conversation_id)
        if record is None or not self.can_see(agent, owner, record.language):
            raise DeskError(404, "no such conversation in your queues")
        return record, owner

    def summary(self, record: ConversationRecord, owner: str, now: float) -> dict:
        escalation = record.escalation
        customer_lines = [m for m in escalation.last_messages if m.get("from") == "customer"]
        return {
            "conversation_id": record.conversation_id, "language": record.language,
            "channel": escalation.channel, "reasons": escalation.reasons,
            "skill": escalation.skill,
            "sentiment": escalation.sentiment, "owner": owner,
            "assigned_to": owner[len(AGENT_PREFIX):] if owner.startswith(AGENT_PREFIX) else None,
            "waiting_seconds": round(now - escalation.created_at),
            "answered": record.answered_at is not None,
            "preview": (customer_lines[-1].get("text") or "")[:140] if customer_lines else "",
            "callback": CALLBACK_REQUESTED in escalation.reasons,
            "requeues": record.requeues,
            "overdue": self._overdue(record, owner, now)}

    def _overdue(self, record: ConversationRecord, owner: str, now: float) -> bool:
        target = self.settings.response_target_seconds
        if owner == QUEUED:
            return now - record.escalation.created_at > target
        return (owner.startswith(AGENT_PREFIX) and record.answered_at is None
                and now - record.escalation.created_at > target)

    def queue_for(self, agent: Agent) -> list[dict]:
        """Waiting conversations this agent may take, in the order they should be taken."""
        now = time.time()
        records = self.records.get_many(list(self.ownership.queued()))
        waiting = [w for w in self._waiting(records) if self.can_see(agent, QUEUED, w.language)]
        return [self.summary(records[w.conversation_id], QUEUED, now) for w in waiting]

    def conversations_of(self, agent: Agent) -> list[dict]:
        now = time.time()
        owned = sorted(self.ownership.conversations_of(agent.id))
        return [self.summary(r, agent_owner(agent.id), now)
                for r in self.records.get_many(owned).values()]

    def _waiting(self, records: dict[str, ConversationRecord]) -> list[Waiting]:
        return waiting_in_order(records.values(), self.settings.skill_wait_seconds)

    async def conversation(self, conversation_id: str, agent: Agent) -> dict:
        record, owner = self._visible_record(conversation_id, agent)
        tracker = await self.rasa.tracker(conversation_id)
        return {**self.summary(record, owner, time.time()),
                "top_intents": record.escalation.top_intents,
                "kb_candidates": record.escalation.kb_candidates,
                "transcript": transcript(tracker.get("events") or [],
                                         delivery_statuses(self.client, conversation_id))}

    # --- escalations in ---------------------------------------------------------------------

    def recover(self) -> int:
        """At start-up: what this process (or a dead one) read but had not finished."""
        return self._take(self.queue.read_pending(self.consumer)) + self.take_over_abandoned()

    def take_over_abandoned(self) -> int:
        """What another desk process read and left idle (it died before writing records)."""
        return self._take(self.queue.claim_abandoned(self.consumer, ABANDONED_AFTER_MS))

    def _take(self, entries) -> int:
        for entry_id, escalation in entries:
            self.records.add_entry(entry_id, escalation)
        return len(entries)

    async def reconcile(self) -> int:
        """Make Rasa agree with Redis where a desk died between the two steps of a move:
        paused exactly while an agent owns the conversation. Runs at start-up and now and
        then; a conversation that moves while it is looked at is looked at again."""
        fixed = 0
        stuck = self.client.zrangebyscore(LEAVING, 0, time.time() - LEAVING_GRACE_SECONDS)
        candidates = ({c for a in self.ownership.holders()
                       for c in self.ownership.conversations_of(a)}
                      | set(self.ownership.queued()) | {m.decode() for m in stuck})
        for conversation_id in candidates:
            fixed += await self._reconcile_one(conversation_id)
        return fixed

    async def _reconcile_one(self, conversation_id: str, attempts: int = 3) -> int:
        for _ in range(attempts):
            owner = self.ownership.owner(conversation_id)
            paused = (await self.rasa.tracker(conversation_id)).get("paused", False)
            should_pause = owner.startswith(AGENT_PREFIX)
            if self.ownership.owner(conversation_id) != owner:
                continue  # it moved while we looked
            if owner == BOT:
                self.client.zrem(LEAVING, conversation_id)
            if paused == should_pause:
                return 0
            await self.rasa.append(conversation_id,
                                   [{"event": "pause" if should_pause else "resume"}])
            if self.ownership.owner(conversation_id) == owner:
                logger.warning("%s was left %s: fixed", conversation_id,
                               "unpaused with an agent" if should_pause else "paused")
                return 1
        return 0

    def ingest(self, block_ms: int | None = None) -> list[ConversationRecord]:
        """New escalations from the stream into records; blocks up to `block_ms`."""
        taken = []
        for entry_id, escalation in self.queue.read_new(self.consumer, block_ms=block_ms):
            record = self.records.add_entry(entry_id, escalation)
            owner = self.ownership.owner(escalation.conversation_id)
            if owner == BOT:  # handed back meanwhile: nothing left to do for this entry
                self.queue.ack(entry_id)
                continue
            taken.append(record)
            self.notify("queued", record.conversation_id, record.language, owner)
        return taken

    # --- routing ------------------------------------------------------------------------------

    async def dispatch(self) -> list[tuple[str, str]]:
        """Give waiting conversations to available agents, most urgent first."""
        if not self.settings.auto_assign:
            return []
        available = [agent for a in self.presence.available()
                     if (agent := self.directory.agents.get(a)) and agent.role == "agent"]
        if not available:
            return []
        load = self.load()
        taken = []
        for waiting in self._waiting(self.records.get_many(list(self.ownership.queued()))):
            agent = eligible_agent(waiting, available, load)
            if agent and self.ownership.assign(waiting.conversation_id, agent.id,
                                               agent.max_conversations):
                load[agent.id] = load.get(agent.id, 0) + 1
                taken.append((waiting.conversation_id, agent))
        # Ownership is settled above, one compare-and-set each; telling Rasa can overlap.
        settled = await asyncio.gather(*(self._settle(c, a) for c, a in taken),
                                       return_exceptions=True)
        for (conversation_id, agent), outcome in zip(taken, settled, strict=True):
            if isinstance(outcome, BaseException):
                logger.error("Could not give %s to %s: %r", conversation_id, agent.id, outcome)
        return [(c, a.id) for (c, a), outcome in zip(taken, settled, strict=True)
                if outcome is None]

    async def claim(self, conversation_id: str, agent: Agent) -> None:
        record, owner = self._visible_record(conversation_id, agent)
        if owner != QUEUED:
            raise DeskError(409, "this conversation is no longer waiting")
        limit = agent.max_conversations if agent.role != "supervisor" else None
        if not self.ownership.assign(conversation_id, agent.id, limit):
            raise DeskError(409, "someone else took it first, or you are at your maximum "
                                 "number of conversations")
        await self._settle(conversation_id, agent)

    async def _settle(self, conversation_id: str, agent: Agent) -> None:
        """After the agent won the conversation: the bot falls silent, the clock for a
        first answer starts, and open desks hear of it. Undone if Rasa cannot be told."""
        try:
            await self.rasa.append(conversation_id, [{"event": "pause"}])
        except Exception:
            self.ownership.requeue(conversation_id, agent.id)
            raise
        record = self.records.assigned(conversation_id, agent.id)
        self.client.zadd(AWAITING_ANSWER,
                         {conversation_id: time.time() + self.settings.answer_timeout_seconds})
        self.notify("assigned", conversation_id, record.language if record else None,
                    agent_owner(agent.id))

    async def requeue_unanswered(self) -> list[str]:
        """Conversations whose agent did not answer in time go back to the queue, and the
        agent is marked away (not at their desk) until they say they are available again."""
        requeued = []
        for member in self.client.zrangebyscore(AWAITING_ANSWER, 0, time.time()):
            conversation_id = member.decode()
            if not self.client.zrem(AWAITING_ANSWER, conversation_id):
                continue  # another desk process took this one
            owner = self.ownership.owner(conversation_id)
            if not owner.startswith(AGENT_PREFIX):
                continue
            agent_id = owner[len(AGENT_PREFIX):]
            why = f"no answer within {self.settings.answer_timeout_seconds:.0f} s"
            try:
                moved = await self._back_to_queue(conversation_id, agent_id, why)
            except Exception:
                logger.exception("Could not re-queue %s; trying again shortly", conversation_id)
                self.client.zadd(AWAITING_ANSWER, {conversation_id: time.time() + 5})
                continue
            if moved:
                logger.warning("%s did not answer %s in time: back in the queue, agent "
                               "marked away", agent_id, conversation_id)
                self.set_available(agent_id, False)
                requeued.append(conversation_id)
        return requeued

    async def requeue_orphans(self) -> list[str]:
        """Conversations held by agents no longer in the agents file go back to the queue."""
        requeued = []
        for agent_id in self.ownership.holders() - set(self.directory.agents):
            for conversation_id in self.ownership.conversations_of(agent_id):
                if await self._back_to_queue(conversation_id, agent_id, "agent removed"):
                    requeued.append(conversation_id)
        return requeued

    async def _back_to_queue(self, conversation_id: str, agent_id: str, why: str) -> bool:
        if not self.ownership.requeue(conversation_id, agent_id):
            return False
        try:  # while waiting again, the bot answers what it can
            await self.rasa.append(conversation_id, [{"event": "resume"}])
        except Exception:
            self.ownership.change(conversation_id, QUEUED, agent_owner(agent_id))
            raise
        self.client.zrem(AWAITING_ANSWER, conversation_id)
        record = self.records.requeued(conversation_id, agent_id, why)
        self.notify("requeued", conversation_id, record.language if record else None, QUEUED,
                    why=why, agent=agent_id)
        return True

    def available(self, agent_id: str) -> bool:
        return self.client.get(f"{STATUS_PREFIX}{agent_id}") != b"away"

    def set_available(self, agent_id: str, available: bool) -> None:
        self.client.set(f"{STATUS_PREFIX}{agent_id}", "available" if available else "away")
        self.presence.heartbeat(agent_id, available)

    # --- agents' actions ----------------------------------------------------------------------

    def _owned(self, conversation_id: str, agent: Agent) -> tuple[ConversationRecord, str]:
        """The record and owner id, if this agent (or a supervisor) may act on it."""
        record, owner = self._visible_record(conversation_id, agent)
        if not owner.startswith(AGENT_PREFIX):
            raise DeskError(409, "claim this conversation first")
        owner_id = owner[len(AGENT_PREFIX):]
        if owner_id != agent.id and agent.role != "supervisor":
            raise DeskError(403, "this conversation belongs to another agent")
        return record, owner_id

    async def reply(self, conversation_id: str, agent: Agent, text: str) -> None:
        text = (text or "").strip()
        if not text:
            raise DeskError(400, "the reply is empty")
        if len(text) > MAX_REPLY_CHARS:
            raise DeskError(400, f"the reply is longer than {MAX_REPLY_CHARS} characters")
        record, _owner = self._owned(conversation_id, agent)
        closed = closed_reason(self.client, record.escalation.channel, conversation_id)
        if closed:
            raise DeskError(409, closed)
        await self.rasa.append(conversation_id, [{
            "event": "bot", "text": text, "timestamp": time.time(),
            "metadata": {"agent": agent.id, "agent_name": agent.name}}], send=True)
        self.client.zrem(AWAITING_ANSWER, conversation_id)
        self.records.answered(conversation_id)

    async def transfer(self, conversation_id: str, agent: Agent, to_agent: str | None = None,
                       to_language: str | None = None) -> None:
        record, owner_id = self._owned(conversation_id, agent)
        if to_agent:
            await self._transfer_to_agent(conversation_id, record, owner_id, agent, to_agent)
            return
        if to_language and to_language not in ASSISTANT_LANGUAGES:
            raise DeskError(400, f"no queue for {to_language!r}; the assistant speaks "
                                 f"{', '.join(ASSISTANT_LANGUAGES)}")
        if to_language:  # before it is queued, so that it is routed by its new language
            self.records.moved_to_language(conversation_id, to_language)
        try:
            moved = await self._back_to_queue(conversation_id, owner_id,
                                              f"transferred by {agent.name}")
        finally:
            if to_language and self.ownership.owner(conversation_id) != QUEUED:
                self.records.moved_to_language(conversation_id, record.language)
        if not moved:
            raise DeskError(409, "the conversation moved meanwhile")

    async def _transfer_to_agent(self, conversation_id: str, record: ConversationRecord,
                                 owner_id: str, agent: Agent, to_agent: str) -> None:
        target = self.agent(to_agent)
        if target is None:
            raise DeskError(400, f"no agent {to_agent!r}")
        if not self.ownership.transfer(conversation_id, owner_id, target.id,
                                       target.max_conversations):
            raise DeskError(409, f"{target.name} is at their maximum number of "
                                 f"conversations, or the conversation moved")
        self.records.assigned(conversation_id, target.id)
        self.client.zadd(AWAITING_ANSWER, {
            conversation_id: time.time() + self.settings.answer_timeout_seconds})
        self.notify("assigned", conversation_id, record.language, agent_owner(target.id),
                    agent=agent.id)

    async def hand_back(self, conversation_id: str, agent: Agent, close: bool = False) -> None:
        """Give the conversation back to the bot; on a hand-back (not a close) the bot asks
        the customer the satisfaction question, if configured."""
        record, owner_id = self._owned(conversation_id, agent)
        self.client.zadd(LEAVING, {conversation_id: time.time()})  # reconcile finishes it
        if not self.ownership.return_to_bot(conversation_id, owner_id):
            self.client.zrem(LEAVING, conversation_id)
            raise DeskError(409, "the conversation moved meanwhile")
        try:
            await self.rasa.append(conversation_id, [
                {"event": "resume"},
                {"event": "slot", "name": "handoff_agent", "value": owner_id},
                {"event": "slot", "name": "callback_offered", "value": False}])
        except Exception:  # still paused: it stays the agent's, who may try again
            self.ownership.change(conversation_id, BOT, agent_owner(owner_id))
            self.client.zrem(LEAVING, conversation_id)
            raise
        self.client.zrem(AWAITING_ANSWER, conversation_id)
        self.client.zrem(LEAVING, conversation_id)
        for entry_id in record.entry_ids:
            self.queue.ack(entry_id)
        self.records.closed(conversation_id, record.entry_ids)
        self.notify("closed" if close else "returned", conversation_id, record.language, BOT,
                    agent=agent.id)
        if not close and self.settings.satisfaction_question:
            await self.rasa.trigger_intent(conversation_id, HANDED_BACK_INTENT)

    # --- supervisors --------------------------------------------------------------------------

    def overview(self) -> dict:
        now = time.time()
        queued = self.ownership.queued()
        records = self.records.get_many(list(queued))
        languages: dict[str, dict] = {}
        for record in records.values():
            entry = languages.setdefault(record.language, {"waiting": 0, "longest_wait": 0,
                                                           "upset": 0})
            entry["waiting"] += 1
            entry["longest_wait"] = max(entry["longest_wait"],
                                        round(now - record.escalation.created_at))
            entry["upset"] += NEGATIVE_SENTIMENT in record.escalation.reasons
        online, available = self.presence.online(), self.presence.available()
        answers = satisfaction.by_agent(self.client)
        load = self.load()
        agents = [{"id": a.id, "name": a.name, "role": a.role, "languages": a.languages,
                   "skills": a.skills, "online": a.id in online,
                   "available": a.id in available,
                   "load": load[a.id],
                   "max_conversations": a.max_conversations,
                   "satisfaction": answers.get(a.id, {"yes": 0, "no": 0})}
                  for a in sorted(self.directory.agents.values(), key=lambda a: a.id)]
        held = [c for a in self.directory.agents for c in self.ownership.conversations_of(a)]
        held_records = self.records.get_many(held)
        attention = [self.summary(r, self.ownership.owner(c), now)
                     for c, r in {**records, **held_records}.items()]
        attention = [s for s in attention if s["overdue"] or s["requeues"]]
        return {"languages": languages, "agents": agents,
                "attention": sorted(attention, key=lambda s: -s["waiting_seconds"]),
                "waiting": len(queued), "dead_letters": self.dead_letters()}

    def dead_letters(self, count: int = 20) -> list[dict]:
        """The latest messages no channel could deliver (teranga/channels/delivery.py)."""
        return [json.loads(item) for item in self.client.lrange(DEAD_LETTERS, 0, count - 1)]

    # --- news for open desks ------------------------------------------------------------------

    def notify(self, kind: str, conversation_id: str, language: str | None, owner: str,
               **extra) -> None:
        self.client.xadd(NOTICES_STREAM, notice(kind, conversation_id, language, owner, **extra),
                         maxlen=NOTICES_LENGTH, approximate=True)


def waiting_in_order(records, skill_wait_seconds: float,
                     now: float | None = None) -> list[Waiting]:
    """Waiting conversations in routing order. A skill is required only for
    `skill_wait_seconds`: after that, any agent of the language beats a longer wait."""
    now = time.time() if now is None else now
    return queue_order(
        Waiting(r.conversation_id, r.language, tuple(r.escalation.reasons),
                r.escalation.created_at,
                skill=r.escalation.skill
                if now - r.escalation.created_at < skill_wait_seconds else None)
        for r in records)


def is_external(text: str, parse: dict) -> bool:
    """A user event made by `trigger_intent` (such as the desk's hand-back), not typed."""
    intent = (parse.get("intent") or {}).get("name")
    return bool(intent) and text == f"EXTERNAL: {intent}"


def transcript(events: list[dict], delivery: dict[str, str] | None = None) -> list[dict]:
    """The conversation as the agent reads it: customer, bot, agents and hand-overs."""
    lines = []
    for event in events:
        kind, metadata = event.get("event"), event.get("metadata") or {}
        text = event.get("text")
        parse = event.get("parse_data") or {}
        if kind == "user" and text and not is_external(text, parse):
            lines.append({"from": "customer", "text": text, "at": event.get("timestamp"),
                          "intent": (parse.get("intent") or {}).get("name"),
                          "sentiment": parse.get("sentiment")})
        elif kind == "bot" and text:
            agent_id = metadata.get("agent")
            lines.append({"from": "agent" if agent_id else "bot", "agent": agent_id,
                          "name": metadata.get("agent_name") or agent_id, "text": text,
                          "at": event.get("timestamp"),
                          "delivery": (delivery or {}).get(message_key(event.get("timestamp")))})
        elif kind in ("pause", "resume"):
            lines.append({"from": "system", "at": event.get("timestamp"),
                          "text": "an agent took over" if kind == "pause"
                          else "back with the assistant"})
    return lines
