"""What the desk shows: an agent's queue and conversations, one conversation in full, the
supervisors' overview, and the messages no channel could deliver. One class each, with one
verb, `run`."""

from __future__ import annotations

import time

from teranga.agent_desk.access import can_see, visible
from teranga.agent_desk.context import summarize
from teranga.agent_desk.desk import DeskError
from teranga.agent_desk.rasa_api import RasaApi
from teranga.agent_desk.summaries import (
    QueueFilter,
    facets,
    masked,
    masked_fact,
    masked_transcript,
    summary,
    transcript,
    waiting_in_order,
)
from teranga.channels import delivery, delivery_status
from teranga.handoff.agents import Agent
from teranga.handoff.ownership import QUEUED, Owner
from teranga.handoff.store import HandoffStore
from teranga.handoff.triggers import NEGATIVE_SENTIMENT

DEFAULT_QUEUE_LIMIT, MAX_QUEUE_LIMIT = 200, 500


class QueueView:
    """The waiting conversations an agent may take, in the order they should be taken
    (filtered, searched, at most `limit`, with the counts of each filter's values), and the
    conversations they hold. Two reads and one MGET, however long the queue."""

    def __init__(self, store: HandoffStore) -> None:
        self.store = store

    async def run(self, agent: Agent, narrow: QueueFilter | None = None,
                  limit: int = DEFAULT_QUEUE_LIMIT) -> dict:
        store, now, settings = self.store, time.time(), self.store.settings.get()
        narrow = narrow or QueueFilter()
        queued, mine = await store.ownership.queued(), await store.ownership.conversations_of(
            agent.id)
        records, kept = await store.records_with_last([*queued, *sorted(mine)])
        in_order = [w for w in waiting_in_order([records[c] for c in queued if c in records],
                                                settings.skill_wait_seconds, now)
                    if can_see(agent, Owner(QUEUED), w.language)]
        waiting = [summary(records[w.conversation_id], Owner(QUEUED), now, settings,
                           kept.get(w.conversation_id), priority=place)
                   for place, w in enumerate(in_order, start=1)]
        matching = [line for line in waiting if narrow.matches(line)]
        due = await store.answer_deadlines() if mine else {}
        return {"mine": [summary(records[c], Owner.agent(agent.id), now, settings,
                                 kept.get(c), holder_name=agent.name, answer_due_at=due.get(c))
                         for c in sorted(mine) if c in records],
                "waiting": matching[:limit], "waiting_total": len(waiting),
                "waiting_matching": len(matching), "facets": facets(waiting)}


class ConversationView:
    """One conversation as the agent reads it: its summary, what the bot guessed, and the
    transcript with each message's delivery, personal data masked (RevealView shows it)."""

    def __init__(self, store: HandoffStore, rasa: RasaApi) -> None:
        self.store = store
        self.rasa = rasa

    async def run(self, conversation_id: str, agent: Agent) -> dict:
        record, owner = await visible(self.store, conversation_id, agent)
        tracker = await self.rasa.tracker(conversation_id)
        delivery = await delivery_status.statuses(self.store.client, conversation_id)
        _records, kept = await self.store.records_with_last([conversation_id])
        holder = self.store.agent(owner.agent_id) if owner.is_agent else None
        return {**summary(record, owner, time.time(), self.store.settings.get(),
                          kept.get(conversation_id),
                          holder_name=holder.name if holder else owner.agent_id,
                          answer_due_at=await self.store.answer_due(conversation_id)),
                "top_intents": record.escalation.top_intents,
                "kb_candidates": record.escalation.kb_candidates,
                "transcript": masked_transcript(transcript(tracker.get("events") or [],
                                                           delivery))}


class RevealView:
    """The personal data of a conversation, unmasked: its transcript and the facts of its
    summary. Only for the agent who holds it, supervisors included: overseeing needs no
    phone number, and a supervisor who must see one takes the conversation over first,
    which the audit records too."""

    def __init__(self, store: HandoffStore, rasa: RasaApi) -> None:
        self.store = store
        self.rasa = rasa

    async def run(self, conversation_id: str, agent: Agent) -> dict:
        record, owner = await visible(self.store, conversation_id, agent)
        if owner.agent_id != agent.id:
            raise DeskError(403, "only the agent who holds this conversation may see its "
                                 "personal data")
        tracker = await self.rasa.tracker(conversation_id)
        events = tracker.get("events") if isinstance(tracker, dict) else None
        events = events if isinstance(events, list) else []
        delivery = await delivery_status.statuses(self.store.client, conversation_id)
        return {"conversation_id": conversation_id,
                "transcript": transcript(events, delivery),
                "facts": summarize(record, events or None)["facts"]}


class DeadLetters:
    """The latest messages no channel could deliver (teranga/channels/delivery.py), masked
    as the desk's other lists are."""

    def __init__(self, store: HandoffStore) -> None:
        self.store = store

    async def run(self, count: int = 20) -> list[dict]:
        return [masked_letter(letter)
                for letter in await delivery.DeadLetters(self.store.client).latest(count)]


def masked_letter(letter: dict) -> dict:
    """The recipient (a phone number on SMS and WhatsApp, a chat id on Telegram) masked as a
    phone fact is: a number the detector does not recognise keeps only its last two digits
    (Twilio refuses exactly those, and its error quotes the number). The text and the error
    have that number replaced likewise, then the rest of their personal data masked."""
    recipient = letter.get("recipient")
    number = recipient.rpartition(":")[2] if isinstance(recipient, str) else ""
    shown = masked_fact({"kind": "phone", "text": number})["text"]
    hidden = {name: masked(letter[name].replace(number, shown) if number else letter[name])
              for name in ("text", "error") if isinstance(letter.get(name), str)}
    if number:
        hidden["recipient"] = recipient.removesuffix(number) + shown
    return {**letter, **hidden}


class Overview:
    """For supervisors: the queues by language, the agents, every live conversation (waiting
    or held, and by whom), those that need attention (overdue or re-queued) and the dead
    letters."""

    def __init__(self, store: HandoffStore) -> None:
        self.store = store

    async def run(self) -> dict:
        store, now, settings = self.store, time.time(), self.store.settings.get()
        queued = await store.ownership.queued()
        directory = store.agents()
        holders = await store.ownership.holders_of(
            sorted(await store.ownership.holders() | set(directory)))
        records, kept = await store.records_with_last([*queued, *holders])
        waiting = [w.conversation_id for w in waiting_in_order(
            [records[c] for c in queued if c in records], settings.skill_wait_seconds, now)]
        live = [summary(records[c], Owner(QUEUED), now, settings, kept.get(c),
                        priority=place) for place, c in enumerate(waiting, start=1)]
        due = await store.answer_deadlines()
        for conversation_id, agent_id in sorted(holders.items(), key=lambda h: h[1]):
            if record := records.get(conversation_id):
                holder = directory.get(agent_id)
                live.append(summary(record, Owner.agent(agent_id), now, settings,
                                    kept.get(conversation_id),
                                    holder_name=holder.name if holder else agent_id,
                                    answer_due_at=due.get(conversation_id)))
        return {"languages": _by_language([records[c] for c in queued if c in records], now),
                "agents": await self._agents(directory),
                "live": live,
                "attention": sorted([s for s in live if s["overdue"] or s["requeues"]],
                                    key=lambda s: -s["waiting_seconds"]),
                "waiting": len(queued), "dead_letters": await DeadLetters(store).run()}

    async def _agents(self, directory: dict[str, Agent]) -> list[dict]:
        store = self.store
        online, available = await store.presence.online(), await store.presence.available()
        answers, load = await store.satisfaction(), await store.ownership.load(directory)
        return [{"id": a.id, "name": a.name, "role": a.role, "languages": a.languages,
                 "skills": a.skills, "online": a.id in online,
                 "available": a.role != "supervisor" and a.id in available,
                 "status": agent_status(a, a.id in online, a.id in available),
                 "load": load[a.id],
                 "max_conversations": a.max_conversations,
                 "satisfaction": answers.get(a.id, {"yes": 0, "no": 0})}
                for a in sorted(directory.values(), key=lambda a: a.id)]


def agent_status(agent: Agent, online: bool, available: bool) -> str:
    """What the overview says of an agent: supervisors are never "available" (never
    assigned); others are available, away (desk open, not taking) or offline."""
    if agent.role == "supervisor":
        return "supervising"
    if not online:
        return "offline"
    return "available" if available else "away"


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
