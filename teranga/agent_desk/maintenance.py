"""What the desk checks by itself: agents about to miss the answer timeout (warned), agents
who did not answer in time, conversations held by
agents who were removed, and Rasa's pauses against ownership (a desk that died between the
two steps of a move leaves them apart)."""

from __future__ import annotations

import logging
import time

from teranga.agent_desk.assignment import BackToQueue
from teranga.agent_desk.moves import SetAvailable
from teranga.agent_desk.rasa_api import RasaApi
from teranga.handoff.store import HandoffStore

logger = logging.getLogger(__name__)

LEAVING_GRACE_SECONDS = 60  # a hand-back still unfinished after this was cut short
RETRY_REQUEUE_SECONDS = 5


class RequeueUnanswered:
    """Conversations whose agent did not answer in time go back to the queue, and the agent
    is marked away (not at their desk) until they say they are available again."""

    def __init__(self, store: HandoffStore, rasa: RasaApi) -> None:
        self.store = store
        self.back_to_queue = BackToQueue(store, rasa)

    async def run(self) -> list[str]:
        store, requeued = self.store, []
        timeout = store.settings.get().answer_timeout_seconds
        for conversation_id in await store.awaiting_answer.until(time.time()):
            if not await store.awaiting_answer.remove(conversation_id):
                continue  # another desk process took this one
            agent_id = (await store.ownership.owner(conversation_id)).agent_id
            if agent_id is None:
                continue
            why = f"no answer within {timeout:.0f} s"
            try:
                moved = await self.back_to_queue.run(conversation_id, agent_id, why,
                                                     marked_away=True)
            except Exception:
                logger.exception("Could not re-queue %s; trying again shortly", conversation_id)
                await store.awaiting_answer.add(conversation_id,
                                                time.time() + RETRY_REQUEUE_SECONDS)
                continue
            if moved:
                logger.warning("%s did not answer %s in time: back in the queue, agent "
                               "marked away", agent_id, conversation_id)
                await SetAvailable(store).run(agent_id, False)
                requeued.append(conversation_id)
        return requeued


class WarnUnanswered:
    """The holder of a conversation not answered yet hears `answer_warning_seconds` before
    it goes back to the queue: once per assignment, by whichever desk process takes the
    warning out of its set first."""

    def __init__(self, store: HandoffStore) -> None:
        self.store = store

    async def run(self) -> list[str]:
        store, warned = self.store, []
        for conversation_id in await store.answer_warnings.until(time.time()):
            if not await store.answer_warnings.remove(conversation_id):
                continue  # another desk process warned
            due_at = await store.answer_due(conversation_id)
            owner = await store.ownership.owner(conversation_id)
            if due_at is None or not owner.is_agent:
                continue  # answered or moved meanwhile
            record = await store.records.get(conversation_id)
            await store.notify("answer_due_soon", conversation_id,
                               record.language if record else None, owner,
                               agent=owner.agent_id, due_at=due_at)
            warned.append(conversation_id)
        return warned


class RequeueOrphans:
    """Conversations held by agents no longer in the agents file go back to the queue."""

    def __init__(self, store: HandoffStore, rasa: RasaApi) -> None:
        self.store = store
        self.back_to_queue = BackToQueue(store, rasa)

    async def run(self) -> list[str]:
        requeued = []
        ownership = self.store.ownership
        for agent_id in await ownership.holders() - set(self.store.agents()):
            for conversation_id in await ownership.conversations_of(agent_id):
                if await self.back_to_queue.run(conversation_id, agent_id, "agent removed"):
                    requeued.append(conversation_id)
        return requeued


class Reconcile:
    """Make Rasa agree with Redis where a desk died between the two steps of a move: paused
    exactly while an agent owns the conversation. Runs at start-up and now and then; a
    conversation that moves while it is looked at is looked at again."""

    def __init__(self, store: HandoffStore, rasa: RasaApi) -> None:
        self.store = store
        self.rasa = rasa

    async def run(self) -> int:
        ownership = self.store.ownership
        stuck = await self.store.leaving.until(time.time() - LEAVING_GRACE_SECONDS)
        candidates = (await ownership.held(await ownership.holders())
                      | set(await ownership.queued()) | set(stuck))
        fixed = 0
        for conversation_id in candidates:
            fixed += await self._one(conversation_id)
        return fixed

    async def _one(self, conversation_id: str, attempts: int = 3) -> int:
        ownership = self.store.ownership
        for _ in range(attempts):
            owner = await ownership.owner(conversation_id)
            paused = (await self.rasa.tracker(conversation_id)).get("paused", False)
            should_pause = owner.is_agent
            if await ownership.owner(conversation_id) != owner:
                continue  # it moved while we looked
            if owner.is_bot:
                await self.store.leaving.remove(conversation_id)
            if paused == should_pause:
                return 0
            await self.rasa.append(conversation_id,
                                   [{"event": "pause" if should_pause else "resume"}])
            if await ownership.owner(conversation_id) == owner:
                logger.warning("%s was left %s: fixed", conversation_id,
                               "unpaused with an agent" if should_pause else "paused")
                return 1
        return 0
