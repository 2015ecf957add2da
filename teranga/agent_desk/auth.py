"""Desk sessions and login throttling, in Redis so that every desk process shares them.

A session is a random token in an HttpOnly, SameSite=Strict cookie; Redis keeps only its
SHA-256, so a copy of the database does not hand out live sessions.

Failed logins are counted three ways, each for 15 minutes after the last one: per id from one
address, per address over all ids (one password tried on many ids), and per id over all
addresses (one id attacked from many; this locks the id for everybody). Ids that do not exist
are counted like the others, so that a lock-out never tells which ids exist.
"""

from __future__ import annotations

import hashlib
import secrets

import redis.asyncio as aioredis

from teranga import redis_keys

SESSION_SECONDS = 10 * 3600  # one working day; each request extends it
LOCKOUT_SECONDS = 15 * 60
# The most telling limit first: it names the lock-out an agent sees.
LOGIN_LIMITS = {"id": 10, "address": 20, "id-address": 5}
MAX_FAILED_LOGINS = LOGIN_LIMITS["id-address"]
COOKIE = "teranga_desk"

# Check every counter and, when none is full, count the attempt as a failure in the same
# atomic step: guesses sent in parallel cannot all pass the check while scrypt runs.
# KEYS follow LOGIN_LIMITS; ARGV holds their limits, then the expiry.
_START_LOGIN = """
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[i]) then return i end
end
for _, key in ipairs(KEYS) do
  redis.call('INCR', key)
  redis.call('EXPIRE', key, ARGV[#ARGV])
end
return 0
"""
# A success takes its count back, and clears the count of this id from this address.
_LOGIN_SUCCEEDED = """
for i, key in ipairs(KEYS) do
  if i == #KEYS or redis.call('DECR', key) <= 0 then redis.call('DEL', key) end
end
"""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    def __init__(self, client: aioredis.Redis,
                 prefix: str = f"{redis_keys.PREFIX}:desk") -> None:
        self.client = client
        self.prefix = prefix
        self._start_login = client.register_script(_START_LOGIN)
        self._login_succeeded = client.register_script(_LOGIN_SUCCEEDED)

    def _key(self, token: str) -> str:
        return redis_keys.desk_session(_digest(token), self.prefix)

    async def open(self, agent_id: str) -> str:
        token = secrets.token_urlsafe(32)
        await self.client.set(self._key(token), agent_id, ex=SESSION_SECONDS)
        return token

    async def agent_id(self, token: str | None) -> str | None:
        if not token or len(token) > 100:
            return None
        key = self._key(token)
        value = await self.client.get(key)
        if value is None:
            return None
        await self.client.expire(key, SESSION_SECONDS)
        return value.decode()

    async def close(self, token: str | None) -> None:
        if token:
            await self.client.delete(self._key(token))

    # --- login throttling --------------------------------------------------------------

    def _failure_keys(self, agent_id: str, address: str) -> list[str]:
        """One key per entry of LOGIN_LIMITS, in its order (the id hashed: it is typed in)."""
        base, agent = redis_keys.login_failures(self.prefix), _digest(agent_id)[:32]
        return [f"{base}:id:{agent}", f"{base}:address:{address}",
                f"{base}:id-address:{agent}:{address}"]

    async def start_login(self, agent_id: str, address: str) -> str | None:
        """The limit (a key of LOGIN_LIMITS) that refuses this attempt, or None; an attempt
        not refused counts as a failure until `login_succeeded`."""
        full = await self._start_login(keys=self._failure_keys(agent_id, address),
                                 args=[*LOGIN_LIMITS.values(), LOCKOUT_SECONDS])
        return list(LOGIN_LIMITS)[full - 1] if full else None

    async def login_succeeded(self, agent_id: str, address: str) -> None:
        # The wider counts only lose this attempt: an attacker with an account of their own
        # must not reset the count of their address by logging in now and then.
        await self._login_succeeded(keys=self._failure_keys(agent_id, address))

    async def unlock(self, agent_id: str) -> None:
        """What a supervisor does for a locked-out agent: forget the id's failures."""
        id_key, _address, pair = self._failure_keys(agent_id, "*")
        pairs = [key async for key in self.client.scan_iter(match=pair, count=1000)]
        await self.client.delete(id_key, *pairs)
