"""The handoff's Redis-backed state in one object: ownership, the escalation queue, the
desk's records and agents' presence."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import redis

from teranga.handoff.agents import AgentDirectory, agents_file
from teranga.handoff.availability import (
    Availability,
    Presence,
    availability,
    load_settings,
    settings_file,
)
from teranga.handoff.ownership import Ownership
from teranga.handoff.queue import EscalationQueue
from teranga.handoff.records import ConversationRecords
from teranga.reloading import Reloading


@dataclass
class HandoffStore:
    client: redis.Redis
    ownership: Ownership
    queue: EscalationQueue
    records: ConversationRecords
    presence: Presence
    directory: Reloading[AgentDirectory] = field(
        default_factory=lambda: Reloading(agents_file, AgentDirectory))
    settings: Reloading = field(default_factory=lambda: Reloading(settings_file, load_settings))

    @classmethod
    def from_url(cls, url: str) -> HandoffStore:
        # A hung Redis must fail fast: actions run on the action server's event loop.
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        return cls(client, Ownership(client), EscalationQueue(client),
                   ConversationRecords(client), Presence(client))

    def availability(self, language: str, conversation_id: str) -> Availability:
        """What a customer joining the queue of `language` can expect now."""
        directory = self.directory.get()
        # One read for all: the queued set changes with ownership, in the same transaction.
        waiting = self.records.get_many([c for c in self.ownership.queued()
                                         if c != conversation_id])
        ahead = sum(r.language == language for r in waiting.values())
        load = self.ownership.load(directory.agents)
        return availability(language, self.settings.get(), directory.agents.values(),
                            self.presence.available(), load, ahead)

    @classmethod
    def from_env(cls) -> HandoffStore:
        url = os.environ.get("REDIS_URL")
        if not url:
            raise RuntimeError("REDIS_URL is not set: the handoff queue needs Redis "
                               "(teranga demo sets it for the action server)")
        return cls.from_url(url)
