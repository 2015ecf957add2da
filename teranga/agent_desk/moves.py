"""What an agent does: claim a conversation, reply, transfer it, hand it back to the bot
(or close it, with a wrap-up code and tags), say whether they take new ones; what a
supervisor does besides: take a conversation over. One class each, with one verb, `run`;
each checks who may act (teranga/agent_desk/access.py) and raises DeskError with the reason
it refuses."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from teranga.agent_desk.access import owned, visible
from teranga.agent_desk.assignment import CLOSED, RETURNED, BackToQueue, Settle, tell_customer
from teranga.agent_desk.desk import ASSISTANT_LANGUAGES, DeskError
from teranga.agent_desk.history import remember_episode
from teranga.agent_desk.rasa_api import RasaApi
from teranga.channels.whatsapp_window import WINDOW_CHANNELS, closed_reason, last_inbound
from teranga.handoff.agents import Agent
from teranga.handoff.availability import WrapUpCode
from teranga.handoff.ownership import BOT, Owner
from teranga.handoff.records import ConversationRecord
from teranga.handoff.store import HandoffStore

logger = logging.getLogger(__name__)

MAX_REPLY_CHARS = 4096
HANDED_BACK_INTENT = "handed_back"
MAX_TAGS, MAX_TAG_CHARS = 5, 32


def wrap_up_of(body: dict, codes: Iterable[WrapUpCode]) -> tuple[str | None, list[str]]:
    """The wrap-up code (one of `codes`, or none) and tags of a close or hand-back."""
    wrap_up, tags, codes = body.get("wrap_up"), body.get("tags"), tuple(codes)
    if wrap_up is not None and (not isinstance(wrap_up, str)
                                or wrap_up not in {c.code for c in codes}):
        raise DeskError(400, "unknown wrap-up code; use one of: "
                             + (", ".join(c.code for c in codes) or "none configured"))
    if tags is None:
        return wrap_up, []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise DeskError(400, "'tags' must be a list of strings")
    tags = list(dict.fromkeys(" ".join(t.split()) for t in tags))
    if len(tags) > MAX_TAGS or not all(0 < len(t) <= MAX_TAG_CHARS for t in tags):
        raise DeskError(400, f"at most {MAX_TAGS} tags of 1-{MAX_TAG_CHARS} characters")
    return wrap_up, tags


class Claim:
    def __init__(self, store: HandoffStore, rasa: RasaApi) -> None:
        self.store = store
        self.settle = Settle(store, rasa)

    async def run(self, conversation_id: str, agent: Agent) -> None:
        _record, owner = await visible(self.store, conversation_id, agent)
        if not owner.is_queued:
            raise DeskError(409, "this conversation is no longer waiting")
        limit = agent.max_conversations if agent.role != "supervisor" else None
        if not await self.store.ownership.assign(conversation_id, agent.id, limit):
            raise DeskError(409, "someone else took it first, or you are at your maximum "
                                 "number of conversations")
        await self.settle.run(conversation_id, agent)


class Reply:
    def __init__(self, store: HandoffStore, rasa: RasaApi) -> None:
        self.store = store
        self.rasa = rasa

    async def run(self, conversation_id: str, agent: Agent, text: str) -> None:
        text = (text or "").strip()
        if not text:
            raise DeskError(400, "the reply is empty")
        if len(text) > MAX_REPLY_CHARS:
            raise DeskError(400, f"the reply is longer than {MAX_REPLY_CHARS} characters")
        record, _owner = await owned(self.store, conversation_id, agent)
        channel = record.escalation.channel
        last = (await last_inbound(self.store.client, channel, conversation_id)
                if channel in WINDOW_CHANNELS else None)
        closed = closed_reason(channel, last)
        if closed:
            raise DeskError(409, closed)
        await self.rasa.append(conversation_id, [{
            "event": "bot", "text": text, "timestamp": time.time(),
            "metadata": {"agent": agent.id, "agent_name": agent.name}}], send=True)
        await self.store.answer_not_expected(conversation_id)
        await self.store.records.answered(conversation_id)


class Transfer:
    """To another agent, or back to a language's queue."""

    def __init__(self, store: HandoffStore, rasa: RasaApi) -> None:
        self.store = store
        self.back_to_queue = BackToQueue(store, rasa)
        self.settle = Settle(store, rasa)

    async def run(self, conversation_id: str, agent: Agent, to_agent: str | None = None,
                  to_language: str | None = None) -> None:
        record, owner_id = await owned(self.store, conversation_id, agent)
        if to_agent:
            await self._to_agent(conversation_id, owner_id, to_agent)
            return
        if to_language and to_language not in ASSISTANT_LANGUAGES:
            raise DeskError(400, f"no queue for {to_language!r}; the assistant speaks "
                                 f"{', '.join(ASSISTANT_LANGUAGES)}")
        records = self.store.records
        if to_language:  # before it is queued, so that it is routed by its new language
            await records.moved_to_language(conversation_id, to_language)
        try:
            moved = await self.back_to_queue.run(conversation_id, owner_id,
                                                 f"transferred by {agent.name}")
        finally:
            if to_language and not (await self.store.ownership.owner(conversation_id)).is_queued:
                await records.moved_to_language(conversation_id, record.language)
        if not moved:
            raise DeskError(409, "the conversation moved meanwhile")

    async def _to_agent(self, conversation_id: str, owner_id: str, to_agent: str) -> None:
        """To another agent: by the holder, or by a supervisor (a reassignment)."""
        target = self.store.agent(to_agent)
        if target is None:
            raise DeskError(400, f"no agent {to_agent!r}")
        if target.id == owner_id:
            raise DeskError(400, f"{target.name} already holds this conversation")
        limit = target.max_conversations if target.role != "supervisor" else None
        if not await self.store.ownership.transfer(conversation_id, owner_id, target.id,
                                                   limit):
            raise DeskError(409, f"{target.name} is at their maximum number of "
                                 f"conversations, or the conversation moved")
        await self.settle.taken(conversation_id, target, from_agent=owner_id)


class TakeOver:
    """A supervisor becomes the holder of a conversation, waiting or held by an agent."""

    def __init__(self, store: HandoffStore, rasa: RasaApi) -> None:
        self.store = store
        self.settle = Settle(store, rasa)

    async def run(self, conversation_id: str, supervisor: Agent) -> None:
        if supervisor.role != "supervisor":
            raise DeskError(403, "for supervisors only")
        _record, owner = await visible(self.store, conversation_id, supervisor)
        ownership = self.store.ownership
        if owner.agent_id == supervisor.id:
            raise DeskError(409, "you already hold this conversation")
        if owner.is_queued:
            if not await ownership.assign(conversation_id, supervisor.id):
                raise DeskError(409, "the conversation moved meanwhile")
            await self.settle.run(conversation_id, supervisor)  # pauses the bot
        elif owner.is_agent:  # already paused
            if not await ownership.transfer(conversation_id, owner.agent_id, supervisor.id):
                raise DeskError(409, "the conversation moved meanwhile")
            await self.settle.taken(conversation_id, supervisor, from_agent=owner.agent_id)
        else:
            raise DeskError(409, "this conversation is back with the assistant")


class HandBack:
    """Give the conversation back to the bot; on a hand-back (not a close) the bot asks the
    customer the satisfaction question, if configured."""

    def __init__(self, store: HandoffStore, rasa: RasaApi) -> None:
        self.store = store
        self.rasa = rasa

    async def run(self, conversation_id: str, agent: Agent, close: bool = False,
                  wrap_up: str | None = None, tags: list[str] | None = None) -> None:
        store = self.store
        record, owner_id = await owned(store, conversation_id, agent)
        await store.leaving.add(conversation_id, time.time())  # reconcile finishes it
        if not await store.ownership.return_to_bot(conversation_id, owner_id):
            await store.leaving.remove(conversation_id)
            raise DeskError(409, "the conversation moved meanwhile")
        try:
            await self.rasa.append(conversation_id, [
                {"event": "resume"},
                {"event": "slot", "name": "handoff_agent", "value": owner_id},
                {"event": "slot", "name": "callback_offered", "value": False}])
        except Exception:  # still paused: it stays the agent's, who may try again
            await store.ownership.change(conversation_id, BOT, Owner.agent(owner_id))
            await store.leaving.remove(conversation_id)
            raise
        await store.answer_not_expected(conversation_id)
        await store.leaving.remove(conversation_id)
        for entry_id in record.entry_ids:
            await store.queue.ack(entry_id)
        finished = await store.records.closed(conversation_id, record.entry_ids, wrap_up, tags,
                                              agent.id)
        if finished is not None and finished.closed_at is not None:
            await self._remember(finished, agent)
        await store.notify("closed" if close else "returned", conversation_id, record.language,
                           BOT, agent=agent.id)
        await tell_customer(self.rasa, conversation_id, record.language,
                            CLOSED if close else RETURNED)
        if not close and store.settings.get().satisfaction_question:
            await self.rasa.trigger_intent(conversation_id, HANDED_BACK_INTENT)


    async def _remember(self, record: ConversationRecord, agent: Agent) -> None:
        """Into the customer's history (teranga/agent_desk/history.py); the close stands
        whatever happens there."""
        try:
            await remember_episode(self.store, record, agent)
        except Exception:
            logger.exception("Could not remember the episode of %s", record.conversation_id)


class SetAvailable:
    """An agent takes new conversations, or not (away): as they said, or as the desk
    decided when they did not answer in time."""

    def __init__(self, store: HandoffStore) -> None:
        self.store = store

    async def run(self, agent_id: str, available: bool) -> None:
        await self.store.status.set(agent_id, available)
        await self.store.presence.heartbeat(agent_id, available)
