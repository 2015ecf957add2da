"""The desk's JSON API: what the desk page reads and the agents' moves."""

from __future__ import annotations

import json
import logging
from urllib.parse import unquote

import redis
from sanic import Sanic, response
from sanic.request import Request

from teranga.agent_desk.canned import canned_replies
from teranga.agent_desk.desk import ASSISTANT_LANGUAGES, Desk, DeskError
from teranga.agent_desk.moves import (
    Claim,
    HandBack,
    Reply,
    SetAvailable,
    TakeOver,
    Transfer,
    wrap_up_of,
)
from teranga.agent_desk.routing import Dispatcher
from teranga.agent_desk.summaries import QueueFilter
from teranga.agent_desk.views import (
    DEFAULT_QUEUE_LIMIT,
    MAX_QUEUE_LIMIT,
    ConversationView,
    Overview,
    QueueView,
    RevealView,
)
from teranga.handoff.agents import Agent
from teranga.handoff.store import HandoffStore
from teranga.insights.warnings import WINDOW_HOURS
from teranga.privacy import audit

logger = logging.getLogger(__name__)
MAX_FILTER_CHARS = 200


def add_api(app: Sanic, desk: Desk, dispatcher: Dispatcher) -> None:
    store, rasa = desk.store, desk.rasa
    claim, reply, transfer = Claim(store, rasa), Reply(store, rasa), Transfer(store, rasa)
    hand_back, set_available = HandBack(store, rasa), SetAvailable(store)
    take_over = TakeOver(store, rasa)
    queue_view, conversation_view = QueueView(store), ConversationView(store, rasa)
    overview_view, reveal_view = Overview(store), RevealView(store, rasa)

    @app.get("/api/me")
    async def me(request: Request):
        agent, settings = request.ctx.agent, store.settings.get()
        return response.json({"id": agent.id, "name": agent.name, "role": agent.role,
                              "languages": agent.languages, "skills": agent.skills,
                              "available": await store.takes_conversations(agent),
                              "all_languages": ASSISTANT_LANGUAGES,
                              "wrap_up_codes": [{"code": w.code, "label": w.label}
                                                for w in settings.wrap_up_codes],
                              "answer_timeout_seconds": settings.answer_timeout_seconds,
                              "answer_warning_seconds": settings.answer_warning_seconds})

    @app.get("/api/queue")
    async def queue(request: Request):
        narrow, limit = queue_query(request)
        return response.json(await queue_view.run(request.ctx.agent, narrow, limit))

    @app.get("/api/conversations/<conversation_id>")
    async def conversation(request: Request, conversation_id: str):
        conversation_id, agent = unquote(conversation_id), request.ctx.agent
        view = await conversation_view.run(conversation_id, agent)
        await audited(store, agent, "read", conversation_id, "conversation")
        return response.json(view)

    @app.post("/api/conversations/<conversation_id>/reveal")
    async def reveal(request: Request, conversation_id: str):
        conversation_id, agent = unquote(conversation_id), request.ctx.agent
        revealed = await reveal_view.run(conversation_id, agent)
        # recorded before anything is shown: an access the audit missed is not served
        await audit.record(store.client, agent.id, "reveal", conversation_id,
                           prefix=store.records.prefix)
        return response.json(revealed)

    @app.post("/api/conversations/<conversation_id>/take_over")
    async def take_over_conversation(request: Request, conversation_id: str):
        conversation_id = unquote(conversation_id)
        await take_over.run(conversation_id, request.ctx.agent)
        await audited(store, request.ctx.agent, "take_over", conversation_id)
        dispatcher.request()  # the agent it was taken from has room again
        return response.json({"ok": True})

    @app.post("/api/conversations/<conversation_id>/<action:claim|reply|transfer|return|close>")
    async def act(request: Request, conversation_id: str, action: str):
        conversation_id = unquote(conversation_id)  # Sanic leaves path parameters encoded
        agent, body = request.ctx.agent, json_body(request)
        for name in ("text", "agent", "language"):
            if body.get(name) is not None and not isinstance(body[name], str):
                raise DeskError(400, f"'{name}' must be a string")
        detail = None
        if action == "claim":
            await claim.run(conversation_id, agent)
        elif action == "reply":
            await reply.run(conversation_id, agent, str(body.get("text") or ""))
        elif action == "transfer":
            await transfer.run(conversation_id, agent, to_agent=body.get("agent"),
                               to_language=body.get("language"))
            detail = (f"to agent {body['agent']}" if body.get("agent")
                      else f"to language {body.get('language')}")
        else:
            wrap_up, tags = wrap_up_of(body, store.settings.get().wrap_up_codes)
            await hand_back.run(conversation_id, agent, close=action == "close",
                                wrap_up=wrap_up, tags=tags)
            detail = f"wrap-up {wrap_up}" if wrap_up else None
        await audited(store, agent, action, conversation_id, detail)
        if action in ("return", "close", "transfer"):
            dispatcher.request()  # capacity freed
        return response.json({"ok": True})

    @app.get("/api/canned/<language:[a-z]{2,3}>")
    async def canned(request: Request, language: str):
        return response.json(canned_replies(language))

    @app.get("/api/agents")
    async def agents(request: Request):
        online = await store.presence.online()
        return response.json([{"id": a.id, "name": a.name, "languages": a.languages,
                               "online": a.id in online}
                              for a in sorted(store.agents().values(), key=lambda a: a.id)])

    @app.post("/api/presence")
    async def presence(request: Request):
        agent = request.ctx.agent
        wanted = bool(json_body(request).get("available"))
        await set_available.run(agent.id, wanted and agent.role != "supervisor")
        if wanted:
            dispatcher.request()
        return response.json({"available": await store.takes_conversations(agent)})

    @app.get("/api/overview")
    async def overview(request: Request):
        if request.ctx.agent.role != "supervisor":
            return response.json({"error": "for supervisors only"}, status=403)
        return response.json({**await overview_view.run(), "warnings": desk.early_warnings,
                              "warning_window_hours": WINDOW_HOURS})

    @app.get("/api/audit")
    async def audit_log(request: Request):
        if request.ctx.agent.role != "supervisor":
            return response.json({"error": "for supervisors only"}, status=403)
        conversation_id = request.args.get("conversation_id") or None
        if conversation_id is not None and len(conversation_id) > MAX_FILTER_CHARS:
            raise DeskError(400, f"'conversation_id' is longer than {MAX_FILTER_CHARS} "
                                 "characters")
        return response.json({"entries": await audit.latest(
            store.client, audit.MAX_LATEST, conversation_id, prefix=store.records.prefix)})


async def audited(store: HandoffStore, agent: Agent, action: str, conversation_id: str,
                  detail: str | None = None) -> None:
    """Record a desk action that is done already: a Redis failure now is logged, not
    answered as a failure of the action (the agent would try again what succeeded)."""
    try:
        await audit.record(store.client, agent.id, action, conversation_id, detail,
                           prefix=store.records.prefix)
    except redis.RedisError:
        logger.exception("Audit: %s of %s by %s not recorded", action, conversation_id,
                         agent.id)


def queue_query(request: Request) -> tuple[QueueFilter, int]:
    """The waiting list's filters, search and limit, from the query string."""
    values = {}
    for name, field in (("language", "language"), ("channel", "channel"),
                        ("reason", "reason"), ("skill", "skill"), ("q", "text")):
        value = request.args.get(name)
        if value is not None and len(value) > MAX_FILTER_CHARS:
            raise DeskError(400, f"'{name}' is longer than {MAX_FILTER_CHARS} characters")
        values[field] = value or None
    limit = request.args.get("limit")
    if limit is None or limit == "":
        return QueueFilter(**values), DEFAULT_QUEUE_LIMIT
    if not limit.isascii() or not limit.isdigit() or not 1 <= int(limit) <= MAX_QUEUE_LIMIT:
        raise DeskError(400, f"'limit' must be a whole number from 1 to {MAX_QUEUE_LIMIT}")
    return QueueFilter(**values), int(limit)


def json_body(request: Request) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise DeskError(400, "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise DeskError(400, "the request body must be a JSON object")
    return body
