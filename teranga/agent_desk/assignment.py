"""The two halves of every change of hands that Rasa must hear of: an agent takes a
conversation (the bot falls silent), or it goes back to the queue (the bot answers what it
can meanwhile). Ownership changes first, in Redis; if Rasa cannot be told, it is undone.

And what the customer is told of it: an agent joined (by name), another agent will answer
(back in the queue), the conversation was closed or is back with the assistant. Telling
them is best effort: a failure is logged and never undoes the move."""

from __future__ import annotations

import logging
import time

from teranga.agent_desk.rasa_api import RasaApi
from teranga.handoff.agents import Agent
from teranga.handoff.customer_notices import notice_text
from teranga.handoff.ownership import QUEUED, Owner
from teranga.handoff.store import HandoffStore

logger = logging.getLogger(__name__)

AGENT_JOINED, CLOSED, RETURNED, REQUEUED = "agent_joined", "closed", "returned", "requeued"


async def tell_customer(rasa: RasaApi, conversation_id: str, language: str | None,
                        kind: str, **variables) -> bool:
    """Send the customer the desk's notice `kind` in their language, through their channel,
    as a bot message marked as the desk's (not the agent's typing). True if sent."""
    try:
        text = notice_text(language or "", kind, **variables)
        if not text:
            return False
        await rasa.append(conversation_id, [{
            "event": "bot", "text": text, "timestamp": time.time(),
            # no agent fields: the channels show it as the service's words, not the
            # agent's (the web chats label an agent's messages with their name)
            "metadata": {"teranga_notice": kind}}], send=True)
        return True
    except Exception:  # the move stands; the agent can still write to the customer
        logger.exception("Could not tell the customer of %s that %s", conversation_id, kind)
        return False


class Settle:
    """After the agent won the conversation: the bot falls silent, the clock for a first
    answer starts (not for supervisors: they take over on purpose and are never marked
    away), open desks hear of it and the customer is told who joined. Undone if Rasa cannot
    be told."""

    def __init__(self, store: HandoffStore, rasa: RasaApi) -> None:
        self.store = store
        self.rasa = rasa

    async def run(self, conversation_id: str, agent: Agent) -> None:
        try:
            await self.rasa.append(conversation_id, [{"event": "pause"}])
        except Exception:
            await self.store.ownership.requeue(conversation_id, agent.id)
            raise
        await self.taken(conversation_id, agent)

    async def taken(self, conversation_id: str, agent: Agent,
                    from_agent: str | None = None) -> None:
        """What follows once `agent` holds the (paused) conversation: claimed, assigned,
        transferred, taken over."""
        store = self.store
        record = await store.records.assigned(conversation_id, agent.id)
        if agent.role == "supervisor":
            await store.answer_not_expected(conversation_id)
        else:
            await store.expect_answer(
                conversation_id, time.time() + store.settings.get().answer_timeout_seconds)
        language = record.language if record else None
        extra = {"agent": agent.id, **({"from_agent": from_agent} if from_agent else {})}
        await store.notify("assigned", conversation_id, language, Owner.agent(agent.id),
                           **extra)
        await tell_customer(self.rasa, conversation_id, language, AGENT_JOINED,
                            agent_name=agent.name)


class BackToQueue:
    """From an agent back to the queue (no answer in time, agent removed, transferred);
    False if the conversation had moved meanwhile."""

    def __init__(self, store: HandoffStore, rasa: RasaApi) -> None:
        self.store = store
        self.rasa = rasa

    async def run(self, conversation_id: str, agent_id: str, why: str,
                  marked_away: bool = False) -> bool:
        """`marked_away`: the desk marks the agent away for it (no answer in time); their
        desk says so."""
        if not await self.store.ownership.requeue(conversation_id, agent_id):
            return False
        try:  # while waiting again, the bot answers what it can
            await self.rasa.append(conversation_id, [{"event": "resume"}])
        except Exception:
            await self.store.ownership.change(conversation_id, QUEUED, Owner.agent(agent_id))
            raise
        await self.store.answer_not_expected(conversation_id)
        record = await self.store.records.requeued(conversation_id, agent_id, why)
        language = record.language if record else None
        await self.store.notify("requeued", conversation_id, language, QUEUED,
                                why=why, agent=agent_id,
                                **({"marked_away": True} if marked_away else {}))
        # told who had joined: now that another agent will answer, not left wondering
        await tell_customer(self.rasa, conversation_id, language, REQUEUED)
        return True
