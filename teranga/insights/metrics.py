"""The metrics, each defined in docs/insights.md, per day or week, language, channel, intent,
agent, hour of day or hand-over reason, for any period and filter: read from the running
totals (rollup.py) where they hold the question, else computed from the conversation rows.

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

from teranga.insights import rollup
from teranga.insights.schema import conversations, handover_reasons
from teranga.insights.store import InsightsStore

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

    def columns(self) -> set[str]:
        """The columns filtered on, besides the day."""
        return {name for name in rollup.FILTERABLE if getattr(self, name)}

    def where(self, columns=conversations.c) -> list:
        """The conditions on a table with a day and the filterable columns."""
        conditions = []
        if self.since:
            conditions.append(columns.day >= self.since)
        if self.until:
            conditions.append(columns.day <= self.until)
        conditions += [columns[name] == getattr(self, name) for name in self.columns()]
        return conditions


def summary(store: InsightsStore, filters: Filters = Filters(), by: str | None = None,
            now: float | None = None) -> list[dict]:
    """One row of every measure per value of `by` (None: one row for everything), from the
    running totals when a grain holds the grouping and the filters (rollup.py), else from the
    conversation rows."""
    if by is not None and by not in GROUPS:
        raise ValueError(f"unknown grouping {by!r}; one of {', '.join(GROUPS)}")
    now = time.time() if now is None else now
    grain = rollup.grain_for(by, filters.columns())
    # one snapshot for both reads on PostgreSQL (SQLite's reads may straddle a commit: the
    # abandoned count below is then off by that conversation for one refresh, never negative)
    with _one_snapshot(store.engine.connect()) as connection:
        rows = connection.execute(_from_rollup(grain, filters, by) if grain is not None
                                  else _from_rows(filters, by, rollup.measures()))
        totals = [dict(row._mapping) for row in rows]
        waiting = _left_waiting_lately(connection, filters, by, now)
    found = [_finished(row, by, waiting) for row in totals if row["conversations"]]
    return sorted(found, key=lambda row: (row.get("group") is None, row.get("group") or 0))


def _one_snapshot(connection: sa.Connection) -> sa.Connection:
    if connection.dialect.name == "postgresql":
        return connection.execution_options(isolation_level="REPEATABLE READ")
    return connection


def _from_rollup(grain: str, filters: Filters, by: str | None) -> sa.Select:
    key = rollup.group_column(grain, by)
    sums = [sa.func.sum(rollup.rollup.c[name]).label(name) for name in rollup.MEASURES]
    query = sa.select(*([key.label("group")] if key is not None else []), *sums) \
        .where(rollup.rollup.c.grain == grain, *filters.where(rollup.rollup.c))
    return query.group_by(key) if key is not None else query


def _from_rows(filters: Filters, by: str | None, measures: dict) -> sa.Select:
    source, key = conversations, None
    if by == "reason":
        source = conversations.join(handover_reasons,
                                    handover_reasons.c.conversation_id == conversations.c.id)
        key = handover_reasons.c.reason
    elif by is not None:
        key = conversations.c[by]
    query = sa.select(*([key.label("group")] if key is not None else []),
                      *(expression.label(name) for name, expression in measures.items())) \
        .select_from(source).where(*filters.where(conversations.c))
    return query.group_by(key) if key is not None else query


def _left_waiting_lately(connection, filters: Filters, by: str | None, now: float) -> dict:
    """Per group, the conversations left waiting that are not abandoned yet: they ended less
    than ABANDONED_AFTER_SECONDS ago (few rows, found by the index on their end)."""
    lately = conversations.alias("lately")
    recent = sa.select(lately.c.id).where(lately.c.ended_at >= now - ABANDONED_AFTER_SECONDS,
                                           lately.c.left_waiting)
    # by id: the planners then start from the end's index, not from the period's days
    query = _from_rows(filters, by, {"conversations": sa.func.count()}).where(
        conversations.c.id.in_(recent))
    return {row._mapping.get("group"): row.conversations for row in connection.execute(query)}


def _finished(totals: dict, by: str | None, waiting: dict) -> dict:
    """The row as readers get it: counts as ints (PostgreSQL's sums are decimals), the
    abandoned counted as of now, each time an average in seconds (None when nothing was
    timed)."""
    group = totals.get("group")
    if group == "":  # a running total's cell for "none"
        group = None
    if by == "hour" and group is not None:
        group = int(group)  # kept as text with the agents and reasons
    row = {"group": group} if by else {}
    for name in rollup.MEASURES:
        if not name.endswith(("_seconds", "_timed")):
            row[name] = int(totals[name] or 0)
    row["abandoned"] = max(0, row.pop("left_waiting") - waiting.get(group, 0))
    for name in rollup.DURATIONS:
        timed = int(totals[f"{name}_timed"] or 0)
        row[name] = float(totals[f"{name}_seconds"]) / timed if timed else None
    return row


def business_value(row: dict, cost_per_agent_conversation: float) -> dict:
    """What the contained conversations would have cost had agents handled them: the count
    times the configured cost of one agent-handled conversation (docs/insights.md)."""
    return {"contained": row["contained"], "cost_per_conversation": cost_per_agent_conversation,
            "saved": row["contained"] * cost_per_agent_conversation}
