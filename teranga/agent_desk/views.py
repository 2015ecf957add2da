"""What the desk shows: an agent's queue and conversations, one conversation in full, the
supervisors' overview, and the messages no channel could deliver. One class each, with one
verb, `run`."""

from __future__ import annotations

import time

from teranga.agent_desk.access import can_see, visible
from teranga.agent_desk.rasa_api import RasaApi
from teranga.agent_desk.summaries import summary, transcript, waiting_in_order
from teranga.channels import delivery, delivery_status
from teranga.handoff.agents import Agent
from teranga.handoff.ownership import QUEUED, Owner
from teranga.handoff.store import HandoffStore
from teranga.handoff.triggers import NEGATIVE_SENTIMENT


class QueueView:
    """The waiting conversations an agent may take, in the order they should be taken, and
    the conversations they hold."""

    def __init__(self, store: HandoffStore) -> None:
        self.store = store

    async def run(self, agent: Agent) -> dict[str, list[dict]]:
        store, now, settings = self.store, time.time(), self.store.settings.get()
        queued = await store.records.get_many(await store.ownership.queued())
        waiting = [w for w in waiting_in_order(queued.values(), settings.skill_wait_seconds)
                   if can_see(agent, Owner(QUEUED), w.language)]
        owned = await store.records.get_many(
            sorted(await store.ownership.conversations_of(agent.id)))
        return {"waiting": [summary(queued[w.conversation_id], Owner(QUEUED), now, settings)
                            for w in waiting],
                "mine": [summary(r, Owner.agent(agent.id), now, settings)
                         for r in owned.values()]}


class ConversationView:
    """One conversation as the agent reads it: its summary, what the bot guessed, and the
    transcript with each message's delivery."""

    def __init__(self, store: HandoffStore, rasa: RasaApi) -> None:
        self.store = store
        self.rasa = rasa

    async def run(self, conversation_id: str, agent: Agent) -> dict:
        record, owner = await visible(self.store, conversation_id, agent)
        tracker = await self.rasa.tracker(conversation_id)
        delivery = await delivery_status.statuses(self.store.client, conversation_id)
        return {**summary(record, owner, time.time(), self.store.settings.get()),
                "top_intents": record.escalation.top_intents,
                "kb_candidates": record.escalation.kb_candidates,
                "transcript": transcript(tracker.get("events") or [], delivery)}


class DeadLetters:
    """The latest messages no channel could deliver (teranga/channels/delivery.py)."""

    def __init__(self, store: HandoffStore) -> None:
        self.store = store

    async def run(self, count: int = 20) -> list[dict]:
        return await delivery.DeadLetters(self.store.client).latest(count)


class Overview:
    """For supervisors: the queues by language, the agents, the conversations that need
    attention (overdue or re-queued) and the dead letters."""

    def __init__(self, store: HandoffStore) -> None:
        self.store = store

    async def run(self) -> dict:
        store, now, settings = self.store, time.time(), self.store.settings.get()
        queued = await store.ownership.queued()
        records = await store.records.get_many(queued)
        directory = store.agents()
        held = await store.records.get_many(
            [c for a in directory for c in await store.ownership.conversations_of(a)])
        attention = [summary(r, await store.ownership.owner(c), now, settings)
                     for c, r in {**records, **held}.items()]
        return {"languages": _by_language(records.values(), now),
                "agents": await self._agents(directory),
                "attention": sorted([s for s in attention if s["overdue"] or s["requeues"]],
                                    key=lambda s: -s["waiting_seconds"]),
                "waiting": len(queued), "dead_letters": await DeadLetters(store).run()}

    async def _agents(self, directory: dict[str, Agent]) -> list[dict]:
        store = self.store
        online, available = await store.presence.online(), await store.presence.available()
        answers, load = await store.satisfaction(), await store.ownership.load(directory)
        return [{"id": a.id, "name": a.name, "role": a.role, "languages": a.languages,
                 "skills": a.skills, "online": a.id in online,
                 "available": a.id in available,
                 "load": load[a.id],
                 "max_conversations": a.max_conversations,
                 "satisfaction": answers.get(a.id, {"yes": 0, "no": 0})}
                for a in sorted(directory.values(), key=lambda a: a.id)]


def _by_language(records, now: float) -> dict[str, dict]:
    languages: dict[str, dict] = {}
    for record in records:
        entry = languages.setdefault(record.language, {"waiting": 0, "longest_wait": 0,
                                                       "upset": 0})
        entry["waiting"] += 1
        entry["longest_wait"] = max(entry["longest_wait"],
                                    round(now - record.escalation.created_at))
        entry["upset"] += NEGATIVE_SENTIMENT in record.escalation.reasons
    return languages
