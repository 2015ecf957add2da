"""Which waiting conversation goes to which agent.

Upset customers and those who have waited longest come first; a conversation goes to an
agent who speaks its language and has the skill it needs, the least loaded one first, and
never beyond the agent's maximum number of conversations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from teranga.handoff.agents import Agent
from teranga.handoff.triggers import NEGATIVE_SENTIMENT


@dataclass(frozen=True)
class Waiting:
    conversation_id: str
    language: str
    reasons: tuple[str, ...]
    since: float  # when it entered the queue (epoch seconds)
    skill: str | None = None


def queue_order(waiting: Iterable[Waiting]) -> list[Waiting]:
    """Negative sentiment first, then the longest wait."""
    return sorted(waiting, key=lambda w: (NEGATIVE_SENTIMENT not in w.reasons, w.since))


def eligible_agent(conversation: Waiting, online: Iterable[Agent],
                   load: Mapping[str, int]) -> Agent | None:
    """The least loaded online agent who can take this conversation, or None."""
    candidates = [agent for agent in online
                  if conversation.language in agent.languages
                  and (conversation.skill is None or conversation.skill in agent.skills)
                  and load.get(agent.id, 0) < agent.max_conversations]
    return min(candidates, key=lambda a: (load.get(a.id, 0), a.id), default=None)
