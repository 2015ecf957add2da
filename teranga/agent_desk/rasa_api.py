"""The desk's calls to the Rasa server's HTTP API (`rasa run --enable-api`).

Pausing, resuming and agents' messages all go through Rasa, so the tracker holds the whole
conversation, and an agent's message leaves through the conversation's own channel (the one
its id belongs to: teranga/conversation_ids.py), never through "whichever channel
wrote last". Calls carry a short-lived JWT (teranga/http_api.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from urllib.parse import quote

import aiohttp

from teranga.conversation_ids import channel_of
from teranga.http_api import api_token, auth_header

logger = logging.getLogger(__name__)
SLOW_SECONDS = 0.5


class RasaUnavailable(RuntimeError):
    pass


class RasaApi:
    def __init__(self, url: str, token: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_env(cls, url: str) -> RasaApi:
        token = api_token()
        if token is None:
            raise RuntimeError("TERANGA_API_TOKEN is not set: the desk calls Rasa's HTTP API, "
                               "which needs it (`teranga demo` sets it)")
        return cls(url, token)

    async def _request(self, method: str, path: str, body: Any = None,
                       params: dict | None = None) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        started = time.perf_counter()
        try:
            async with self._session.request(method, f"{self.url}{path}", json=body,
                                             params=params,
                                             headers=auth_header(self.token, "desk")) as reply:
                if reply.status >= 400:
                    raise RasaUnavailable(f"Rasa answered {reply.status} to {method} {path}: "
                                          f"{(await reply.text())[:300]}")
                return await reply.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise RasaUnavailable(f"Rasa did not answer {method} {path}: {error!r}") from error
        finally:
            if (elapsed := time.perf_counter() - started) > SLOW_SECONDS:
                logger.warning("Rasa took %.0f ms for %s %s", elapsed * 1000, method, path)

    async def tracker(self, conversation_id: str) -> dict:
        return await self._request("GET", f"/conversations/{_quote(conversation_id)}/tracker")

    async def append(self, conversation_id: str, events: list[dict],
                     send: bool = False) -> dict:
        """Append events; with `send`, bot events also go out through the customer's channel."""
        params = {"execute_side_effects": "true",
                  "output_channel": channel_of(conversation_id)} if send else None
        return await self._request("POST", f"/conversations/{_quote(conversation_id)}"
                                   "/tracker/events", events, params)

    async def trigger_intent(self, conversation_id: str, intent: str) -> dict:
        """Let the bot react to an event outside the conversation, as its rules say; what
        it says goes out through the customer's channel."""
        return await self._request("POST", f"/conversations/{_quote(conversation_id)}"
                                   "/trigger_intent", {"name": intent},
                                   {"output_channel": channel_of(conversation_id)})

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _quote(conversation_id: str) -> str:
    # Rasa's server (Sanic) does not percent-decode path parameters: the id goes as it is;
    # channels only make ids of characters safe in a path (teranga.channels.inbound.SENDER_ID).
    return quote(conversation_id, safe=":+@")
