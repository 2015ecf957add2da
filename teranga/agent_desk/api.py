"""The desk's JSON API: what the desk page reads and the agents' moves."""

from __future__ import annotations

import json
from urllib.parse import unquote

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
)

MAX_FILTER_CHARS = 200


def add_api(app: Sanic, desk: Desk, dispatcher: Dispatcher) -> None:
    store, rasa = desk.store, desk.rasa
    claim, reply, transfer = Claim(store, rasa), Reply(store, rasa), Transfer(store, rasa)
    hand_back, set_available = HandBack(store, rasa), SetAvailable(store)
    take_over = TakeOver(store, rasa)
    queue_view, conversation_view = QueueView(store), ConversationView(store, rasa)
    overview_view = Overview(store)

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
        return response.json(await conversation_view.run(unquote(conversation_id),
                                                         request.ctx.agent))

    @app.post("/api/conversations/<conversation_id>/take_over")
    async def take_over_conversation(request: Request, conversation_id: str):
        await take_over.run(unquote(conversation_id), request.ctx.agent)
        dispatcher.request()  # the agent it was taken from has room again
        return response.json({"ok": True})

    @app.post("/api/conversations/<conversation_id>/<action:claim|reply|transfer|return|close>")
    async def act(request: Request, conversation_id: str, action: str):
        conversation_id = unquote(conversation_id)  # Sanic leaves path parameters encoded
        agent, body = request.ctx.agent, json_body(request)
        for name in ("text", "agent", "language"):
            if body.get(name) is not None and not isinstance(body[name], str):
                raise DeskError(400, f"'{name}' must be a string")
        if action == "claim":
            await claim.run(conversation_id, agent)
        elif action == "reply":
            await reply.run(conversation_id, agent, str(body.get("text") or ""))
        elif action == "transfer":
            await transfer.run(conversation_id, agent, to_agent=body.get("agent"),
                               to_language=body.get("language"))
        else:
            wrap_up, tags = wrap_up_of(body, store.settings.get().wrap_up_codes)
            await hand_back.run(conversation_id, agent, close=action == "close",
                                wrap_up=wrap_up, tags=tags)
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
        return response.json(await overview_view.run())


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
