"""What every part of the desk works with: the one store, Rasa's API and this process's name
in the queue's group; and the error a desk move or view answers with.

All state is in Redis (ownership, records, presence) and in Rasa's tracker, so any number of
desk processes can serve agents at once, and one that restarts loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from teranga.agent_desk.rasa_api import RasaApi
from teranga.corpora import nlu_languages
from teranga.handoff.store import HandoffStore
from teranga.insights.feed import Feed
from teranga.insights.store import InsightsStore
from teranga.settings import PROJECT_ROOT

# The languages the assistant speaks, one NLU file each: the queues a conversation can join.
ASSISTANT_LANGUAGES = nlu_languages(PROJECT_ROOT / "data" / "nlu")


class DeskError(Exception):
    """A refusal the agent reads: its HTTP status and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Desk:
    store: HandoffStore
    rasa: RasaApi
    consumer: str  # this process's name in the escalation queue's consumer group
    insights: InsightsStore | None = None  # the analytics store the supervisors read
    feed: Feed | None = None  # what keeps it up to date from the assistant's events
    # the store's early warnings, refreshed in the background for the supervisors' overview
    early_warnings: list[dict] = field(default_factory=list)

    async def close(self) -> None:
        """The Rasa API's session, then the store's Redis connections."""
        try:
            await self.rasa.close()
        finally:
            await self.store.close()
