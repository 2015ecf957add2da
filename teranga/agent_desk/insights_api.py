"""The supervisors' Insights: the page, its figures and the CSV export, read from the analytics
store the desk feeds (teranga/insights). Queries run off the event loop: a year of figures
must not stall the agents' desk."""

from __future__ import annotations

import asyncio

from sanic import Sanic, response
from sanic.request import Request

from teranga.agent_desk.desk import Desk, DeskError
from teranga.agent_desk.pages import page
from teranga.agent_desk.suggestions import KnowledgeBaseUnavailable
from teranga.insights.export import csv_rows
from teranga.insights.irritants import Irritants, nearest_article
from teranga.insights.metrics import Filters
from teranga.insights.report import insights_data

MAX_FILTER_CHARS = 64


def add_insights_api(app: Sanic, desk: Desk, cost_per_conversation: float) -> None:
    @app.get("/insights")
    async def insights_page(request: Request):
        _supervisor(request)
        return response.html(page("insights.html"))

    @app.get("/api/insights")
    async def figures(request: Request):
        store = _store(request, desk)
        filters = _filters(request, store.hours.timezone)
        return response.json(await asyncio.to_thread(insights_data, store, filters,
                                                     cost_per_conversation))

    finders: dict[int, Irritants] = {}  # one per loaded knowledge base: its vectors cached

    @app.get("/api/insights/irritants")
    async def irritants(request: Request):
        store = _store(request, desk)
        filters = _filters(request, store.hours.timezone)

        def groups(knowledge_base) -> list[dict]:
            finder = finders.setdefault(id(knowledge_base), Irritants(
                store, knowledge_base.embedder.embed_queries, nearest_article(knowledge_base)))
            return [group.as_dict() for group in finder.groups(filters)]

        try:
            return response.json({"groups": await request.app.ctx.knowledge_base.run(groups)})
        except KnowledgeBaseUnavailable as error:
            raise DeskError(503, f"the knowledge base is not ready ({error})") from error

    @app.get("/api/insights/export.csv")
    async def export(request: Request):
        store = _store(request, desk)
        filters = _filters(request, store.hours.timezone)
        text = await asyncio.to_thread(lambda: "".join(csv_rows(store, filters)))
        return response.text(text, content_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": 'attachment; filename="teranga-conversations.csv"'})


def _supervisor(request: Request) -> None:
    if request.ctx.agent.role != "supervisor":
        raise DeskError(403, "for supervisors only")


def _store(request: Request, desk: Desk):
    _supervisor(request)
    if desk.insights is None:
        raise DeskError(503, "the analytics store is not open on this desk")
    return desk.insights


def _filters(request: Request, zone: str) -> Filters:
    values = {}
    for name in ("since", "until", "language", "channel", "intent"):
        value = request.args.get(name)
        if value is not None and len(value) > MAX_FILTER_CHARS:
            raise DeskError(400, f"'{name}' is longer than {MAX_FILTER_CHARS} characters")
        values[name] = value or None
    try:
        return Filters.parse_since(values.pop("since") or "7d", zone, **values)
    except ValueError as error:
        raise DeskError(400, f"'since' must be like 7d or 2026-12-01 ({error})") from error
