"""Who may see and act on a conversation: the checks every move and view of the desk makes,
in one place."""

from __future__ import annotations

from teranga.agent_desk.desk import DeskError
from teranga.handoff.agents import Agent
from teranga.handoff.ownership import Owner
from teranga.handoff.records import ConversationRecord
from teranga.handoff.store import HandoffStore


def can_see(agent: Agent, owner: Owner, language: str) -> bool:
    """Supervisors see everything; agents their own conversations and the waiting ones in
    their languages."""
    return (agent.role == "supervisor" or owner.agent_id == agent.id
            or (owner.is_queued and language in agent.languages))


def was_theirs(agent: Agent, item: dict) -> bool:
    """An agent hears that a conversation left them (re-queued, transferred, closed, taken
    over or reassigned by a supervisor: `from_agent`)."""
    return (agent.id in (item.get("agent"), item.get("from_agent"))
            or Owner.parse(item.get("owner")).agent_id == agent.id)


async def visible(store: HandoffStore, conversation_id: str,
                  agent: Agent) -> tuple[ConversationRecord, Owner]:
    """The record and owner, if this agent may see the conversation."""
    record = await store.records.get(conversation_id)
    owner = await store.ownership.owner(conversation_id)
    if record is None or not can_see(agent, owner, record.language):
        raise DeskError(404, "no such conversation in your queues")
    return record, owner


async def owned(store: HandoffStore, conversation_id: str,
                agent: Agent) -> tuple[ConversationRecord, str]:
    """The record and the owning agent's id, if this agent (or a supervisor) may act on
    the conversation."""
    record, owner = await visible(store, conversation_id, agent)
    if not owner.is_agent:
        raise DeskError(409, "claim this conversation first")
    if owner.agent_id != agent.id and agent.role != "supervisor":
        raise DeskError(403, "this conversation belongs to another agent")
    return record, owner.agent_id
