"""The two halves of every change of hands that Rasa must hear of: an agent takes a
conversation (the bot falls silent), or it goes back to the queue (the bot answers what it
can meanwhile). Ownership changes first, in Redis; if Rasa cannot be told, it is undone."""

from __future__ import annotations

import time

from teranga.agent_desk.rasa_api import RasaApi
from teranga.handoff.agents import Agent
from teranga.handoff.ownership import QUEUED, Owner
from teranga.handoff.store import HandoffStore


class Settle:
    """After the agent won the conversation: the bot falls silent, the clock for a first
    answer starts, and open desks hear of it. Undone if Rasa cannot be told."""

    def __init__(self, store: HandoffStore, rasa: RasaApi) -> None:
        self.store = store
        self.rasa = rasa

    async def run(self, conversation_id: str, agent: Agent) -> None:
        try:
            await self.rasa.append(conversation_id, [{"event": "pause"}])
        except Exception:
            await self.store.ownership.requeue(conversation_id, agent.id)
            raise
        record = await self.store.records.assigned(conversation_id, agent.id)
        await self.store.awaiting_answer.add(
            conversation_id, time.time() + self.store.settings.get().answer_timeout_seconds)
        await self.store.notify("assigned", conversation_id,
                                record.language if record else None, Owner.agent(agent.id))


class BackToQueue:
    """From an agent back to the queue (no answer in time, agent removed, transferred);
    False if the conversation had moved meanwhile."""

    def __init__(self, store: HandoffStore, rasa: RasaApi) -> None:
        self.store = store
        self.rasa = rasa

    async def run(self, conversation_id: str, agent_id: str, why: str) -> bool:
        if not await self.store.ownership.requeue(conversation_id, agent_id):
            return False
        try:  # while waiting again, the bot answers what it can
            await self.rasa.append(conversation_id, [{"event": "resume"}])
        except Exception:
            await self.store.ownership.change(conversation_id, QUEUED, Owner.agent(agent_id))
            raise
        await self.store.awaiting_answer.remove(conversation_id)
        record = await self.store.records.requeued(conversation_id, agent_id, why)
        await self.store.notify("requeued", conversation_id,
                                record.language if record else None, QUEUED,
                                why=why, agent=agent_id)
        return True
