"""Desk sessions and login throttling, in Redis so that every desk process shares them.

A session is a random token in an HttpOnly, SameSite=Strict cookie; Redis keeps only its
SHA-256, so a copy of the database does not hand out live sessions.
"""

from __future__ import annotations

import hashlib
import secrets

import redis

SESSION_SECONDS = 10 * 3600  # one working day; each request extends it
MAX_FAILED_LOGINS = 5
LOCKOUT_SECONDS = 15 * 60
COOKIE = "teranga_desk"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    def __init__(self, client: redis.Redis, prefix: str = "teranga:desk") -> None:
        self.client = client
        self.prefix = prefix

    def _key(self, token: str) -> str:
        return f"{self.prefix}:session:{_digest(token)}"

    def open(self, agent_id: str) -> str:
        token = secrets.token_urlsafe(32)
        self.client.set(self._key(token), agent_id, ex=SESSION_SECONDS)
        return token

    def agent_id(self, token: str | None) -> str | None:
        if not token or len(token) > 100:
            return None
        key = self._key(token)
        value = self.client.get(key)
        if value is None:
            return None
        self.client.expire(key, SESSION_SECONDS)
        return value.decode()

    def close(self, token: str | None) -> None:
        if token:
            self.client.delete(self._key(token))

    def locked_out(self, agent_id: str) -> bool:
        failures = self.client.get(f"{self.prefix}:login-failures:{agent_id}")
        return int(failures or 0) >= MAX_FAILED_LOGINS

    def failed(self, agent_id: str) -> None:
        key = f"{self.prefix}:login-failures:{agent_id}"
        with self.client.pipeline() as pipe:
            pipe.incr(key)
            pipe.expire(key, LOCKOUT_SECONDS)
            pipe.execute()

    def succeeded(self, agent_id: str) -> None:
        self.client.delete(f"{self.prefix}:login-failures:{agent_id}")
