"""The desk's context routes: a conversation's summary, the customer's earlier
conversations and the agents' notes; knowledge-base suggestions; adding a note. Whoever may
see a conversation (teranga/agent_desk/access.py) may read these and add notes."""

from __future__ import annotations

import logging
from urllib.parse import unquote

from sanic import Sanic, response
from sanic.request import Request

from teranga.agent_desk.access import visible
from teranga.agent_desk.api import audited, json_body
from teranga.agent_desk.context import lines_from_events, lines_from_record, summarize
from teranga.agent_desk.desk import Desk, DeskError
from teranga.agent_desk.history import history_for
from teranga.agent_desk.notes import add_note, notes_of
from teranga.agent_desk.rasa_api import RasaApi, RasaUnavailable
from teranga.agent_desk.suggestions import (
    MAX_QUESTION_CHARS,
    DeskKnowledgeBase,
    KnowledgeBaseUnavailable,
)
from teranga.agent_desk.summaries import masked, masked_fact, masked_preview
from teranga.conversation_ids import is_valid

logger = logging.getLogger(__name__)


def add_context_api(app: Sanic, desk: Desk,
                    knowledge_base: DeskKnowledgeBase | None = None) -> None:
    store, rasa = desk.store, desk.rasa
    knowledge_base = knowledge_base or DeskKnowledgeBase()
    app.ctx.knowledge_base = knowledge_base  # one per desk process

    @app.get("/api/conversations/<conversation_id>/context")
    async def conversation_context(request: Request, conversation_id: str):
        conversation_id = _conversation_id(conversation_id)
        agent = request.ctx.agent
        record, _owner = await visible(store, conversation_id, agent)
        events = await _tracker_events(rasa, conversation_id)
        context = {"summary": masked_summary(summarize(record, events)),
                   "history": [masked_episode(e) for e in await history_for(store, record)],
                   "notes": await notes_of(store, conversation_id)}  # the agents' own words
        await audited(store, agent, "read", conversation_id, "context")
        return response.json(context)

    @app.get("/api/conversations/<conversation_id>/suggestions")
    async def conversation_suggestions(request: Request, conversation_id: str):
        conversation_id = _conversation_id(conversation_id)
        record, _owner = await visible(store, conversation_id, request.ctx.agent)
        question = (request.args.get("q") or "").strip()
        typed = bool(question)
        if len(question) > MAX_QUESTION_CHARS:
            raise DeskError(400, f"'q' has at most {MAX_QUESTION_CHARS} characters")
        if not question:
            events = await _tracker_events(rasa, conversation_id)
            lines = lines_from_events(events) if events else lines_from_record(record)
            latest = [line.text for line in lines if line.by == "customer"][-1:]
            question = latest[0][:MAX_QUESTION_CHARS] if latest else ""
        try:
            articles = await knowledge_base.articles(question, record.language)
        except KnowledgeBaseUnavailable as error:
            return response.json({"error": f"the knowledge base is not available ({error}); "
                                           "try again in a minute"}, status=503)
        # the customer's own message, when it was the question: shown masked
        return response.json({"language": record.language,
                              "question": question if typed else masked(question),
                              "articles": articles})

    @app.post("/api/conversations/<conversation_id>/notes")
    async def add_conversation_note(request: Request, conversation_id: str):
        conversation_id = _conversation_id(conversation_id)
        agent = request.ctx.agent
        record, owner = await visible(store, conversation_id, agent)
        note = await add_note(store, record, owner, agent, json_body(request).get("text"))
        await audited(store, agent, "note", conversation_id)
        return response.json({"note": note})

    @app.after_server_stop
    async def stop_knowledge_base(_app: Sanic, _loop) -> None:
        knowledge_base.stop()


def masked_summary(summary: dict) -> dict:
    """The context's summary with the customer's words masked: the quote of what they want
    and the facts (the holder's reveal shows the facts unmasked)."""
    return {**summary, "wants": masked(summary["wants"]),
            "tried": [masked(what) for what in summary["tried"]],  # may quote the bot
            "facts": [masked_fact(fact) for fact in summary["facts"]]}


def masked_episode(entry: dict) -> dict:
    """An earlier episode of the customer's, its preview masked (kept before masking)."""
    preview = entry.get("preview")
    return {**entry, "preview": masked_preview(preview)} if isinstance(preview, str) else entry


def _conversation_id(in_path: str) -> str:
    """The id as the page percent-encoded it; an id no channel makes is nobody's."""
    conversation_id = unquote(in_path)
    if not is_valid(conversation_id):
        raise DeskError(404, "no such conversation in your queues")
    return conversation_id


async def _tracker_events(rasa: RasaApi, conversation_id: str) -> list | None:
    """Rasa's events of the conversation, or None when Rasa cannot say (the record's
    messages then stand in)."""
    try:
        tracker = await rasa.tracker(conversation_id)
    except RasaUnavailable as error:
        logger.warning("Context of %s without the tracker: %s", conversation_id, error)
        return None
    events = tracker.get("events") if isinstance(tracker, dict) else None
    return events if isinstance(events, list) else None
