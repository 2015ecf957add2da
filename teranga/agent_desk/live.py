"""The desk's live view: one websocket per open desk, and the news each agent may see (every
message of their conversations, the desk's notices) pushed as it happens."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field

import redis
from sanic import Sanic
from sanic.request import Request

from teranga import redis_keys
from teranga.agent_desk.access import can_see, was_theirs
from teranga.agent_desk.auth import COOKIE, Sessions
from teranga.agent_desk.summaries import masked
from teranga.handoff.ownership import Owner
from teranga.handoff.store import HandoffStore

logger = logging.getLogger(__name__)


@dataclass
class Connections:
    """Open desks in this process: each websocket, the agent behind it and their session."""

    sockets: dict = field(default_factory=dict)  # websocket -> (agent id, session token)

    def agents(self) -> set[str]:
        return {agent_id for agent_id, _token in self.sockets.values()}

    async def drop_expired(self, store: HandoffStore, sessions: Sessions) -> None:
        """Close the sockets whose session ended or whose agent was removed."""
        for ws, (agent_id, token) in list(self.sockets.items()):
            if await sessions.agent_id(token) != agent_id or store.agent(agent_id) is None:
                self.sockets.pop(ws, None)
                await ws.close()

    async def heartbeat(self, store: HandoffStore) -> None:
        """The agents with a desk open here are present (and available, if they said so;
        supervisors never are)."""
        for agent_id in self.agents():
            if agent := store.agent(agent_id):
                await store.presence.heartbeat(agent_id,
                                               await store.takes_conversations(agent))


def add_websocket(app: Sanic, store: HandoffStore, connections: Connections) -> None:
    @app.websocket("/ws")
    async def websocket(request: Request, ws):
        agent = request.ctx.agent
        connections.sockets[ws] = (agent.id, request.cookies.get(COOKIE))
        await store.presence.heartbeat(agent.id, await store.takes_conversations(agent))
        try:
            while True:
                await ws.recv()  # the desk only listens; this notices the socket closing
        finally:
            connections.sockets.pop(ws, None)
            if agent.id not in connections.agents():
                await store.presence.leave(agent.id)


class News:
    """Send each open desk the messages and changes its agent may see, as they happen."""

    def __init__(self, store: HandoffStore, connections: Connections) -> None:
        self.store = store
        self.connections = connections

    async def run(self) -> None:
        last = {redis_keys.EVENTS: "$", redis_keys.DESK_NOTICES: "$"}
        while True:
            try:
                replies = await self.store.read_news(last, count=500, block_ms=1000)
            except redis.RedisError:
                logger.exception("Reading desk news failed; retrying")
                await asyncio.sleep(1)
                continue
            for stream, entries in replies:
                name = stream.decode()
                for entry_id, fields in entries:
                    last[name] = entry_id.decode()
                    try:
                        await self._deliver(name, json.loads(fields[b"data"]))
                    except Exception:  # one bad item must not stop the news for everyone
                        logger.exception("Could not deliver desk news %s", last[name])

    async def _deliver(self, stream: str, item: dict) -> None:
        from_rasa = stream == redis_keys.EVENTS or item.get("kind") == "delivery"
        if not self.connections.sockets and not (from_rasa and latest_message(item)):
            return
        store, conversation_id = self.store, item.get("conversation_id")
        if from_rasa:
            record = await store.records.get(conversation_id)
            if record is None:  # never escalated: the bot's business only
                return
            if message := latest_message(item):  # the list's "last message", kept current
                await store.last_messages.keep(conversation_id, *message)
            if not self.connections.sockets:
                return
            owner = await store.ownership.owner(conversation_id)
            language, kind = record.language, "message"
            if isinstance(item.get("text"), str):  # as the lists show it; the holder reveals
                item = {**item, "text": masked(item["text"])}
        else:
            owner, language, kind = Owner.parse(item["owner"]), item.get("language") or "", \
                "notice"
        text = json.dumps({"type": kind, **item}, ensure_ascii=False)
        for ws, (agent_id, _token) in list(self.connections.sockets.items()):
            agent = store.agent(agent_id)  # as the agents file says now
            if agent and (can_see(agent, owner, language) or was_theirs(agent, item)):
                try:
                    await ws.send(text)
                except Exception:  # a socket that closed meanwhile; its handler cleans up
                    self.connections.sockets.pop(ws, None)


def latest_message(item: dict) -> tuple[str, str, float] | None:
    """(from, text, at) of a tracker event the desk's list shows as a conversation's last
    message: what the customer, the bot or an agent wrote (not the desk's own triggers)."""
    text, at, kind = item.get("text"), item.get("at"), item.get("event")
    if not isinstance(text, str) or not text or not isinstance(at, (int, float)):
        return None
    if item.get("notice") or item.get("teranga_notice"):
        return None  # what the desk told the customer ("Awa has joined"), not a message
    if kind == "user":
        intent = item.get("intent")
        return None if intent and text == f"EXTERNAL: {intent}" else ("customer", text, at)
    if kind == "bot":
        return ("agent" if item.get("agent") else "bot"), text, at
    return None
