"""Routing: waiting conversations go to available agents, most urgent first. One task per
desk process runs it, woken whenever something may have changed (a new escalation, an agent
available, capacity freed), never holding up the intake."""

from __future__ import annotations

import asyncio
import logging

from teranga.agent_desk.assignment import Settle
from teranga.agent_desk.rasa_api import RasaApi
from teranga.agent_desk.summaries import waiting_in_order
from teranga.handoff.routing import eligible_agent
from teranga.handoff.store import HandoffStore

logger = logging.getLogger(__name__)


class Dispatch:
    def __init__(self, store: HandoffStore, rasa: RasaApi) -> None:
        self.store = store
        self.settle = Settle(store, rasa)

    async def run(self) -> list[tuple[str, str]]:
        """(conversation, agent) for each conversation given."""
        store, settings = self.store, self.store.settings.get()
        if not settings.auto_assign:
            return []
        agents = store.agents()
        available = [agent for a in await store.presence.available()
                     if (agent := agents.get(a)) and agent.role == "agent"]
        if not available:
            return []
        load = await store.ownership.load(agents)
        queued = await store.records.get_many(await store.ownership.queued())
        taken = []
        for waiting in waiting_in_order(queued.values(), settings.skill_wait_seconds):
            agent = eligible_agent(waiting, available, load)
            if agent and await store.ownership.assign(waiting.conversation_id, agent.id,
                                                      agent.max_conversations):
                load[agent.id] = load.get(agent.id, 0) + 1
                taken.append((waiting.conversation_id, agent))
        # Ownership is settled above, one compare-and-set each; telling Rasa can overlap.
        settled = await asyncio.gather(*(self.settle.run(c, a) for c, a in taken),
                                       return_exceptions=True)
        for (conversation_id, agent), outcome in zip(taken, settled, strict=True):
            if isinstance(outcome, BaseException):
                logger.error("Could not give %s to %s: %r", conversation_id, agent.id, outcome)
        return [(c, a.id) for (c, a), outcome in zip(taken, settled, strict=True)
                if outcome is None]


class Dispatcher:
    """Runs `Dispatch` whenever it is asked to, once for any number of requests meanwhile."""

    def __init__(self, dispatch: Dispatch) -> None:
        self.dispatch = dispatch
        self.wanted = asyncio.Event()

    def request(self) -> None:
        self.wanted.set()

    async def run(self) -> None:
        while True:
            await self.wanted.wait()
            self.wanted.clear()
            try:
                await self.dispatch.run()
            except Exception:
                logger.exception("Routing failed; it runs again at the next change")
