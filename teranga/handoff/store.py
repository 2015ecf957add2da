"""The handoff's Redis-backed state in one object: ownership and the escalation queue."""

from __future__ import annotations

import os
from dataclasses import dataclass

import redis

from teranga.handoff.ownership import Ownership
from teranga.handoff.queue import EscalationQueue


@dataclass
class HandoffStore:
    ownership: Ownership
    queue: EscalationQueue

    @classmethod
    def from_url(cls, url: str) -> HandoffStore:
        # A hung Redis must fail fast: actions run on the action server's event loop.
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        return cls(Ownership(client), EscalationQueue(client))

    @classmethod
    def from_env(cls) -> HandoffStore:
        url = os.environ.get("REDIS_URL")
        if not url:
            raise RuntimeError("REDIS_URL is not set: the handoff queue needs Redis "
                               "(teranga demo sets it for the action server)")
        return cls.from_url(url)
