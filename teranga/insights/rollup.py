"""The measures of the conversation rows, and their running totals per day and a few columns.

Every measure is additive (a count, or a sum of seconds with the count of what was summed), so
that totals can be added up: a week from its days, a language from its channels. The totals
are kept in the `rollup` table in the same transaction as the rows they count (the store
subtracts a conversation's old rows and adds its new ones), so the dashboard reads a few
thousand totals rather than a million rows (docs/benchmarks.md, "Insights at scale").

Each grain keeps the day (and its week) and some columns; a query is answered from the grain
that holds its grouping and every column it filters on, else from the rows themselves
(metrics.py). Hours, agents and reasons are kept without the intent: with it, their totals
would be almost as many as the rows.
"""

from __future__ import annotations

import functools

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from teranga.insights.schema import conversations, feed_state, handover_reasons, metadata

# grain: (the column it groups by, or None; the columns it can be filtered by)
GRAINS = {
    "all": (None, ("language", "channel", "intent")),
    "hour": ("hour", ("language", "channel")),
    "agent": ("agent", ("language", "channel")),
    "reason": ("reason", ("language", "channel")),
}
FILTERABLE = ("language", "channel", "intent")
VERSION = "1"  # change it with GRAINS or the measures: the store rebuilds the totals
_VERSION_KEY = "rollup_version"
_EMPTY = sa.literal_column("''")  # a cell's value where a column is not kept or is NULL


def _count_if(condition) -> sa.sql.ColumnElement:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _durations() -> dict[str, tuple]:
    """Each time measure: (later, earlier, on which conversations)."""
    c = conversations.c
    return {
        "time_to_handover": (c.handed_over_at, c.started_at, None),
        "queue_wait_in_hours": (c.claimed_at, c.handed_over_at, c.handed_in_hours.is_(True)),
        "queue_wait_out_of_hours": (c.claimed_at, c.handed_over_at,
                                    c.handed_in_hours.is_(False)),
        "first_response_in_hours": (c.first_agent_reply_at, c.handed_over_at,
                                    c.handed_in_hours.is_(True)),
        "first_response_out_of_hours": (c.first_agent_reply_at, c.handed_over_at,
                                        c.handed_in_hours.is_(False)),
        "handling": (c.returned_at, c.claimed_at, None),
        "resolution": (sa.func.coalesce(c.returned_at, c.ended_at), c.started_at,
                       sa.or_(c.contained, c.returned_at.isnot(None))),
    }


DURATIONS = tuple(_durations())


@functools.cache
def measures() -> dict[str, sa.sql.ColumnElement]:
    """Every measure as an aggregate over conversation rows (joined to their reasons when
    grouped by reason), by name; built once (the expressions are immutable)."""
    c = conversations.c
    found = {
        "conversations": sa.func.count(),
        "contained": _count_if(c.contained),
        "handed_over": _count_if(c.handed_over_at.isnot(None)),
        "left_waiting": _count_if(c.left_waiting),
        "with_fallback": _count_if(c.fallbacks > 0),
        "customer_messages": sa.func.sum(c.customer_messages),
        "kb_answers": sa.func.sum(c.kb_answers),
        "kb_misses": sa.func.sum(c.kb_misses),
        "positive": sa.func.sum(c.positive),
        "neutral": sa.func.sum(c.neutral),
        "negative": sa.func.sum(c.negative),
        "ended_upset": _count_if(c.ended_upset),
        "satisfaction_asked": _count_if(c.satisfaction_asked),
        "satisfaction_answered": _count_if(c.satisfied.isnot(None)),
        "satisfied": _count_if(c.satisfied.is_(True)),
    }
    for name, (later, earlier, condition) in _durations().items():
        timed = sa.and_(later.isnot(None), earlier.isnot(None),
                        *([condition] if condition is not None else []))
        found[f"{name}_seconds"] = sa.func.sum(sa.case((timed, later - earlier), else_=0.0))
        found[f"{name}_timed"] = _count_if(timed)
    return found


MEASURES = tuple(measures())
_KEYS = ("grain", "day", "language", "channel", "intent", "value")

rollup = sa.Table(
    "rollup", metadata,
    *(sa.Column(name, sa.String(80), primary_key=True) for name in _KEYS),  # "" for none
    sa.Column("week", sa.String(8), nullable=False),
    *(sa.Column(name, sa.Float if name.endswith("_seconds") else sa.BigInteger,
                nullable=False) for name in MEASURES),
)


def group_column(grain: str, by: str | None) -> sa.sql.ColumnElement | None:
    """The rollup's column holding this grouping's values."""
    if by is None:
        return None
    return rollup.c.value if GRAINS[grain][0] == by else rollup.c[by]


def grain_for(by: str | None, filtered: set[str]) -> str | None:
    """The grain that can answer a grouping under these filters, or None (read the rows)."""
    for grain, (column, kept) in GRAINS.items():
        holds_group = by in (None, "day", "week", column) or (by in kept and column is None)
        if holds_group and filtered <= set(kept):
            return grain
    return None


def add(connection: sa.Connection, ids: list[str] | None, sign: int = 1) -> None:
    """Add (sign 1) or take away (-1) these conversations' rows (None: every row) to every
    grain's totals."""
    for grain in GRAINS:
        _upsert(connection, _contribution(grain, ids, sign))


def lock(connection: sa.Connection) -> None:
    """One writer at a time on PostgreSQL: a conversation's old rows are taken away from the
    totals as this transaction reads them, so a concurrent rewrite must wait (SQLite has one
    writer anyway)."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(0x7E7A6A)))


def rebuild_if_outdated(engine: sa.Engine, force: bool = False) -> None:
    """Recount every total from the rows when they were kept by another version (or never:
    a store written before the totals existed), or when forced."""
    if not force:
        with engine.connect() as connection:
            if _version(connection) == VERSION:
                return  # the usual case: no write, no lock on opening the store
    with engine.begin() as connection:
        lock(connection)
        # a write first: on SQLite it takes the one writer's lock before anything is read
        connection.execute(feed_state.update().where(feed_state.c.name == _VERSION_KEY)
                           .values(value=feed_state.c.value))
        if not force and _version(connection) == VERSION:
            return  # another process recounted while this one waited
        connection.execute(rollup.delete())
        add(connection, None)
        connection.execute(feed_state.delete().where(feed_state.c.name == _VERSION_KEY))
        connection.execute(feed_state.insert().values(name=_VERSION_KEY, value=VERSION))


def _version(connection: sa.Connection) -> str | None:
    return connection.execute(sa.select(feed_state.c.value).where(
        feed_state.c.name == _VERSION_KEY)).scalar()


def _contribution(grain: str, ids: list[str] | None, sign: int) -> sa.Select:
    """The totals these rows make in this grain's cells, ready for `_upsert`. Constants are
    written into the SQL, not bound: PostgreSQL groups by an expression only when it is the
    one selected, and two parameters are two expressions."""
    column, kept = GRAINS[grain]
    c = conversations.c
    source, value = conversations, _EMPTY
    if column == "reason":
        source = conversations.join(handover_reasons,
                                    handover_reasons.c.conversation_id == c.id)
        value = handover_reasons.c.reason
    elif column is not None:
        value = sa.func.coalesce(sa.cast(c[column], sa.String), _EMPTY)
    filtered = {name: sa.func.coalesce(c[name], _EMPTY) for name in kept}
    cells = [c.day, *(filtered.get(name, _EMPTY) for name in FILTERABLE), value, c.week]
    totals = [(expression if sign > 0 else -expression) for expression in measures().values()]
    grouped = [c.day, c.week, *filtered.values(), *([value] if value is not _EMPTY else [])]
    return sa.select(sa.literal_column(f"'{grain}'"), *cells, *totals).select_from(source) \
        .where(c.id.in_(ids) if ids is not None else sa.true()).group_by(*grouped)


def _upsert(connection: sa.Connection, contribution: sa.Select) -> None:
    insert = (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)
    statement = insert(rollup).from_select([*_KEYS, "week", *MEASURES], contribution)
    connection.execute(statement.on_conflict_do_update(
        index_elements=list(_KEYS),
        set_={name: rollup.c[name] + statement.excluded[name] for name in MEASURES}))
