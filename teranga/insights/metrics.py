"""The metrics, each defined in docs/insights.md, computed by the database from the
conversation rows (teranga/insights/store.py), per day or week, language, channel, intent,
agent, hour of day or hand-over reason, for any period and filter.

Times are averages in seconds (Chatwoot's reports average too); rates are shares of the
conversations in the row, computed by the reader from the counts given here, so that rows can
be added up (a week from its days) without averaging averages.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from teranga.insights.store import InsightsStore, conversations, handover_reasons

GROUPS = ("day", "week", "hour", "language", "channel", "intent", "agent", "reason")
# A conversation left waiting is abandoned once it stays so this long (the session's expiry
# in domain/core.yml: the customer's next message would start a new conversation).
ABANDONED_AFTER_SECONDS = 3600


@dataclass(frozen=True)
class Filters:
    since: str | None = None  # first day, YYYY-MM-DD, in the centre's time zone
    until: str | None = None  # last day
    language: str | None = None
    channel: str | None = None
    intent: str | None = None

    @classmethod
    def parse_since(cls, since: str, zone: str, now: float | None = None, **others) -> Filters:
        """`since` as "7d" (the last 7 days, today included) or a day (YYYY-MM-DD)."""
        if since.endswith("d") and since[:-1].isdigit():
            today = datetime.fromtimestamp(time.time() if now is None else now,
                                           ZoneInfo(zone)).date()
            since = (today - timedelta(days=max(1, int(since[:-1])) - 1)).isoformat()
        else:
            date.fromisoformat(since)  # ValueError for anything else
        return cls(since=since, **others)

    def where(self) -> list:
        c = conversations.c
        conditions = []
        if self.since:
            conditions.append(c.day >= self.since)
        if self.until:
            conditions.append(c.day <= self.until)
        for column, value in ((c.language, self.language), (c.channel, self.channel),
                              (c.intent, self.intent)):
            if value:
                conditions.append(column == value)
        return conditions


def _count_if(condition) -> sa.sql.ColumnElement:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _average(later, earlier, condition=None) -> sa.sql.ColumnElement:
    both = sa.and_(later.isnot(None), earlier.isnot(None), *([condition] if condition is not None
                                                              else []))
    return sa.func.avg(sa.case((both, later - earlier), else_=None))


def _measures(now: float) -> list:
    c = conversations.c
    handed = c.handed_over_at.isnot(None)
    return [
        sa.func.count().label("conversations"),
        _count_if(c.contained).label("contained"),
        _count_if(handed).label("handed_over"),
        _count_if(sa.and_(c.left_waiting, c.ended_at < now - ABANDONED_AFTER_SECONDS))
        .label("abandoned"),
        _count_if(c.fallbacks > 0).label("with_fallback"),
        sa.func.sum(c.customer_messages).label("customer_messages"),
        sa.func.sum(c.kb_answers).label("kb_answers"),
        sa.func.sum(c.kb_misses).label("kb_misses"),
        sa.func.sum(c.positive).label("positive"),
        sa.func.sum(c.neutral).label("neutral"),
        sa.func.sum(c.negative).label("negative"),
        _count_if(c.ended_upset).label("ended_upset"),
        _count_if(c.satisfaction_asked).label("satisfaction_asked"),
        _count_if(c.satisfied.isnot(None)).label("satisfaction_answered"),
        _count_if(c.satisfied.is_(True)).label("satisfied"),
        _average(c.handed_over_at, c.started_at).label("time_to_handover"),
        _average(c.claimed_at, c.handed_over_at, c.handed_in_hours.is_(True))
        .label("queue_wait_in_hours"),
        _average(c.claimed_at, c.handed_over_at, c.handed_in_hours.is_(False))
        .label("queue_wait_out_of_hours"),
        _average(c.first_agent_reply_at, c.handed_over_at, c.handed_in_hours.is_(True))
        .label("first_response_in_hours"),
        _average(c.first_agent_reply_at, c.handed_over_at, c.handed_in_hours.is_(False))
        .label("first_response_out_of_hours"),
        _average(c.returned_at, c.claimed_at).label("handling"),
        _average(sa.func.coalesce(c.returned_at, c.ended_at), c.started_at,
                 sa.or_(c.contained, c.returned_at.isnot(None))).label("resolution"),
    ]


def summary(store: InsightsStore, filters: Filters = Filters(), by: str | None = None,
            now: float | None = None) -> list[dict]:
    """One row of every measure per value of `by` (None: one row for everything)."""
    if by is not None and by not in GROUPS:
        raise ValueError(f"unknown grouping {by!r}; one of {', '.join(GROUPS)}")
    now = time.time() if now is None else now
    measures = _measures(now)
    source = conversations
    if by == "reason":
        source = conversations.join(handover_reasons,
                                    handover_reasons.c.conversation_id == conversations.c.id)
        key = handover_reasons.c.reason
    else:
        key = conversations.c[by] if by else None
    query = sa.select(*([key.label("group")] if key is not None else []), *measures) \
        .select_from(source).where(*filters.where())
    if key is not None:
        query = query.group_by(key).order_by(key)
    with store.engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(query)]
    return [_plain(row) for row in rows if row["conversations"]]


def _plain(row: dict) -> dict:
    """Counts as ints (a sum over no rows is NULL), times as floats or None (PostgreSQL's
    averages are decimals)."""
    return {name: value if name == "group" else (
        (None if value is None else float(value)) if name in _TIMES else int(value or 0))
        for name, value in row.items()}


_TIMES = frozenset({"time_to_handover", "queue_wait_in_hours", "queue_wait_out_of_hours",
                    "first_response_in_hours", "first_response_out_of_hours", "handling",
                    "resolution"})


def business_value(row: dict, cost_per_agent_conversation: float) -> dict:
    """What the contained conversations would have cost had agents handled them: the count
    times the configured cost of one agent-handled conversation (docs/insights.md)."""
    return {"contained": row["contained"], "cost_per_conversation": cost_per_agent_conversation,
            "saved": row["contained"] * cost_per_agent_conversation}
