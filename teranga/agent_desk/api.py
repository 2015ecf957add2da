"""The desk's JSON API: what the desk page reads and the agents' moves."""

from __future__ import annotations

import json
from urllib.parse import unquote

from sanic import Sanic, response
from sanic.request import Request

from teranga.agent_desk.canned import canned_replies
from teranga.agent_desk.desk import ASSISTANT_LANGUAGES, Desk, DeskError
from teranga.agent_desk.moves import Claim, HandBack, Reply, SetAvailable, Transfer
from teranga.agent_desk.routing import Dispatcher
from teranga.agent_desk.views import ConversationView, Overview, QueueView


def add_api(app: Sanic, desk: Desk, dispatcher: Dispatcher) -> None:
    store, rasa = desk.store, desk.rasa
    claim, reply, transfer = Claim(store, rasa), Reply(store, rasa), Transfer(store, rasa)
    hand_back, set_available = HandBack(store, rasa), SetAvailable(store)
    queue_view, conversation_view = QueueView(store), ConversationView(store, rasa)
    overview_view = Overview(store)

    @app.get("/api/me")
    async def me(request: Request):
        agent = request.ctx.agent
        return response.json({"id": agent.id, "name": agent.name, "role": agent.role,
                              "languages": agent.languages, "skills": agent.skills,
                              "available": await store.status.available(agent.id),
                              "all_languages": ASSISTANT_LANGUAGES})

    @app.get("/api/queue")
    async def queue(request: Request):
        return response.json(await queue_view.run(request.ctx.agent))

    @app.get("/api/conversations/<conversation_id>")
    async def conversation(request: Request, conversation_id: str):
        return response.json(await conversation_view.run(unquote(conversation_id),
                                                         request.ctx.agent))

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
            await hand_back.run(conversation_id, agent, close=action == "close")
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
        available = bool(json_body(request).get("available"))
        await set_available.run(agent.id, available)
        if available:
            dispatcher.request()
        return response.json({"available": available})

    @app.get("/api/overview")
    async def overview(request: Request):
        if request.ctx.agent.role != "supervisor":
            return response.json({"error": "for supervisors only"}, status=403)
        return response.json(await overview_view.run())


def json_body(request: Request) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise DeskError(400, "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise DeskError(400, "the request body must be a JSON object")
    return body
