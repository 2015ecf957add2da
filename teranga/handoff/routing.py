"""Which waiting conversation goes to which agent.

The priority rule (the desk's list and the routing share it): upset customers first, then
those who asked for a person (or for a callback) themselves, then those the bot handed over
(not understood, an error...); within each group, the longest wait first. So a new explicit
request for a person goes ahead of every conversation the bot merely gave up on, instead of
sinking to the bottom of a long queue, and the longest-waiting upset customer is always
first. A conversation goes to an agent who speaks its language and has the skill it needs,
the least loaded one first, and never beyond the agent's maximum number of conversations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from teranga.handoff.agents import Agent
from teranga.handoff.triggers import ASKED_FOR_PERSON, CALLBACK_REQUESTED, NEGATIVE_SENTIMENT

UPSET, ASKED, HANDED_OVER = 0, 1, 2  # the priority groups, most urgent first


@dataclass(frozen=True)
class Waiting:
    conversation_id: str
    language: str
    reasons: tuple[str, ...]
    since: float  # when it entered the queue (epoch seconds)
    skill: str | None = None
    upset: bool = False  # the latest sentiment was negative, whatever the reason escalated

    @property
    def group(self) -> int:
        return priority_group(self.reasons, self.upset)


def priority_group(reasons: Iterable[str], upset: bool = False) -> int:
    reasons = set(reasons)
    if upset or NEGATIVE_SENTIMENT in reasons:
        return UPSET
    if reasons & {ASKED_FOR_PERSON, CALLBACK_REQUESTED}:
        return ASKED
    return HANDED_OVER


def queue_order(waiting: Iterable[Waiting]) -> list[Waiting]:
    """By priority group (upset, asked for a person, handed over by the bot), then the
    longest wait; ties by id, so that every desk process agrees."""
    return sorted(waiting, key=lambda w: (w.group, w.since, w.conversation_id))


def eligible_agent(conversation: Waiting, online: Iterable[Agent],
                   load: Mapping[str, int]) -> Agent | None:
    """The least loaded online agent who can take this conversation, or None."""
    candidates = [agent for agent in online
                  if conversation.language in agent.languages
                  and (conversation.skill is None or conversation.skill in agent.skills)
                  and load.get(agent.id, 0) < agent.max_conversations]
    return min(candidates, key=lambda a: (load.get(a.id, 0), a.id), default=None)
