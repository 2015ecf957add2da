"""One CSV row per conversation, as Chatwoot's users ask (its issues #13366 and #15243): what a
spreadsheet needs to recount any metric, and nothing that names the customer (the id is the
store's pseudonym; no message text)."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator

import sqlalchemy as sa

from teranga.insights.metrics import ABANDONED_AFTER_SECONDS, Filters
from teranga.insights.schema import conversations, reasons_of_each
from teranga.insights.store import InsightsStore

COLUMNS = ("conversation", "day", "week", "hour", "channel", "language", "intent",
           "customer_messages", "bot_messages", "agent_messages", "contained", "handed_over",
           "handover_reasons", "handed_in_opening_hours", "seconds_to_handover",
           "queue_wait_seconds", "first_response_seconds", "handling_seconds",
           "resolution_seconds", "agent", "fallbacks", "kb_answers", "kb_misses",
           "positive_messages", "neutral_messages", "negative_messages", "ended_upset",
           "satisfaction", "abandoned")
BATCH = 5000


def csv_rows(store: InsightsStore, filters: Filters | None = None,
             now: float | None = None) -> Iterator[str]:
    """The CSV, header first, a few thousand rows at a time (a year of a busy centre does
    not sit in memory)."""
    now = time.time() if now is None else now
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    reasons = reasons_of_each(store.engine.dialect.name)
    query = sa.select(conversations, reasons.label("reasons")) \
        .where(*(filters or Filters()).where()) \
        .order_by(conversations.c.started_at)
    with store.engine.connect() as connection:
        result = connection.execution_options(stream_results=True).execute(query)
        for rows in iter(lambda: result.fetchmany(BATCH), []):
            for row in rows:
                writer.writerow(_cells(row._mapping, now))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _cells(row, now: float) -> list:
    handed = row["handed_over_at"]
    ended = row["returned_at"] if row["returned_at"] is not None else row["ended_at"]
    resolved = row["contained"] or row["returned_at"] is not None
    abandoned = row["left_waiting"] and row["ended_at"] < now - ABANDONED_AFTER_SECONDS
    return [row["id"], row["day"], row["week"], row["hour"], row["channel"], row["language"],
            row["intent"], row["customer_messages"], row["bot_messages"],
            row["agent_messages"], _yes(row["contained"]), _yes(handed is not None),
            " ".join(sorted((row["reasons"] or "").split())),
            "" if row["handed_in_hours"] is None else _yes(row["handed_in_hours"]),
            _seconds(handed, row["started_at"]), _seconds(row["claimed_at"], handed),
            _seconds(row["first_agent_reply_at"], handed),
            _seconds(row["returned_at"], row["claimed_at"]),
            _seconds(ended, row["started_at"]) if resolved else "",
            row["agent"] or "", row["fallbacks"], row["kb_answers"], row["kb_misses"],
            row["positive"], row["neutral"], row["negative"], _yes(row["ended_upset"]),
            "" if row["satisfied"] is None else ("yes" if row["satisfied"] else "no"),
            _yes(abandoned)]


def _yes(value) -> str:
    return "yes" if value else "no"


def _seconds(later: float | None, earlier: float | None) -> str:
    return "" if later is None or earlier is None else f"{later - earlier:.0f}"
