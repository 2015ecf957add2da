"""What an agent does: claim a conversation, reply, transfer it, hand it back to the bot
(or close it), say whether they take new ones. One class each, with one verb, `run`; each
checks who may act (teranga/agent_desk/access.py) and raises DeskError with the reason it
refuses."""

from __future__ import annotations

import time

from teranga.agent_desk.access import owned, visible
from teranga.agent_desk.assignment import BackToQueue, Settle
from teranga.agent_desk.desk import ASSISTANT_LANGUAGES, DeskError
from teranga.agent_desk.rasa_api import RasaApi
from teranga.channels.whatsapp_window import WINDOW_CHANNELS, closed_reason, last_inbound
from teranga.handoff.agents import Agent
from teranga.handoff.ownership import BOT, Owner
from teranga.handoff.records import ConversationRecord
from teranga.handoff.store import HandoffStore

MAX_REPLY_CHARS = 4096
HANDED_BACK_INTENT = "handed_back"


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
        await self.store.awaiting_answer.remove(conversation_id)
        await self.store.records.answered(conversation_id)


class Transfer:
    """To another agent, or back to a language's queue."""

    def __init__(self, store: HandoffStore, rasa: RasaApi) -> None:
        self.store = store
        self.back_to_queue = BackToQueue(store, rasa)

    async def run(self, conversation_id: str, agent: Agent, to_agent: str | None = None,
                  to_language: str | None = None) -> None:
        record, owner_id = await owned(self.store, conversation_id, agent)
        if to_agent:
            await self._to_agent(conversation_id, record, owner_id, agent, to_agent)
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

    async def _to_agent(self, conversation_id: str, record: ConversationRecord,
                        owner_id: str, agent: Agent, to_agent: str) -> None:
        target = self.store.agent(to_agent)
        if target is None:
            raise DeskError(400, f"no agent {to_agent!r}")
        if not await self.store.ownership.transfer(conversation_id, owner_id, target.id,
                                                   target.max_conversations):
            raise DeskError(409, f"{target.name} is at their maximum number of "
                                 f"conversations, or the conversation moved")
        await self.store.records.assigned(conversation_id, target.id)
        await self.store.awaiting_answer.add(
            conversation_id, time.time() + self.store.settings.get().answer_timeout_seconds)
        await self.store.notify("assigned", conversation_id, record.language,
                                Owner.agent(target.id), agent=agent.id)


class HandBack:
    """Give the conversation back to the bot; on a hand-back (not a close) the bot asks the
    customer the satisfaction question, if configured."""

    def __init__(self, store: HandoffStore, rasa: RasaApi) -> None:
        self.store = store
        self.rasa = rasa

    async def run(self, conversation_id: str, agent: Agent, close: bool = False) -> None:
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
        await store.awaiting_answer.remove(conversation_id)
        await store.leaving.remove(conversation_id)
        for entry_id in record.entry_ids:
            await store.queue.ack(entry_id)
        await store.records.closed(conversation_id, record.entry_ids)
        await store.notify("closed" if close else "returned", conversation_id, record.language,
                           BOT, agent=agent.id)
        if not close and store.settings.get().satisfaction_question:
            await self.rasa.trigger_intent(conversation_id, HANDED_BACK_INTENT)


class SetAvailable:
    """An agent takes new conversations, or not (away): as they said, or as the desk
    decided when they did not answer in time."""

    def __init__(self, store: HandoffStore) -> None:
        self.store = store

    async def run(self, agent_id: str, available: bool) -> None:
        await self.store.status.set(agent_id, available)
        await self.store.presence.heartbeat(agent_id, available)
