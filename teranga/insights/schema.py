"""The analytics store's tables: one row per conversation (its facts,
teranga/insights/facts.py), its hand-over reasons, what the customer wrote that the assistant
missed (masked), and the feed's place. The running totals over them: rollup.py."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

conversations = sa.Table(
    "conversations", metadata,
    sa.Column("id", sa.String(160), primary_key=True),  # "<pseudonym>@<start>"
    sa.Column("customer", sa.String(64), nullable=False, index=True),  # pseudonym
    sa.Column("started_at", sa.Float, nullable=False, index=True),
    sa.Column("ended_at", sa.Float, nullable=False, index=True),  # abandonment, retention
    sa.Column("day", sa.String(10), nullable=False, index=True),  # in the centre's time zone
    sa.Column("week", sa.String(8), nullable=False),  # ISO week, "2026-W49"
    sa.Column("hour", sa.Integer, nullable=False),
    sa.Column("channel", sa.String(32)),
    sa.Column("language", sa.String(8)),
    sa.Column("intent", sa.String(80)),
    sa.Column("customer_messages", sa.Integer, nullable=False),
    sa.Column("bot_messages", sa.Integer, nullable=False),
    sa.Column("agent_messages", sa.Integer, nullable=False),
    sa.Column("contained", sa.Boolean, nullable=False),
    sa.Column("handed_over_at", sa.Float),
    sa.Column("handed_in_hours", sa.Boolean),
    sa.Column("claimed_at", sa.Float),
    sa.Column("first_agent_reply_at", sa.Float),
    sa.Column("returned_at", sa.Float),
    sa.Column("agent", sa.String(80)),
    sa.Column("fallbacks", sa.Integer, nullable=False),
    sa.Column("kb_answers", sa.Integer, nullable=False),
    sa.Column("kb_misses", sa.Integer, nullable=False),
    sa.Column("positive", sa.Integer, nullable=False),
    sa.Column("neutral", sa.Integer, nullable=False),
    sa.Column("negative", sa.Integer, nullable=False),
    sa.Column("ended_upset", sa.Boolean, nullable=False),
    sa.Column("satisfaction_asked", sa.Boolean, nullable=False),
    sa.Column("satisfied", sa.Boolean),
    sa.Column("left_waiting", sa.Boolean, nullable=False),
    sa.Column("agent_answer", sa.Text),  # masked, cut: an example answer, not a record
    # the filter no running total holds with an hour, agent or reason (rollup.py)
    sa.Index("ix_conversations_intent_day", "intent", "day"),
)

handover_reasons = sa.Table(
    "handover_reasons", metadata,
    sa.Column("conversation_id", sa.String(160), primary_key=True),
    sa.Column("reason", sa.String(40), primary_key=True),
)

missed_messages = sa.Table(
    "missed_messages", metadata,
    sa.Column("conversation_id", sa.String(160), primary_key=True),
    sa.Column("at", sa.Float, primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),  # not_understood, kb_miss, upset
    sa.Column("language", sa.String(8)),
    sa.Column("text", sa.Text, nullable=False),  # masked
)

feed_state = sa.Table(
    "feed_state", metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
)


def reasons_of_each(dialect: str) -> sa.ScalarSelect:
    """A conversation's hand-over reasons, joined by spaces, as a column of a query on
    `conversations` (read through the reasons' primary key, one conversation at a time)."""
    reason = handover_reasons.c.reason
    joined = (sa.func.string_agg(reason, sa.literal_column("' '")) if dialect == "postgresql"
              else sa.func.group_concat(reason, " "))
    return sa.select(joined).where(
        handover_reasons.c.conversation_id == conversations.c.id).scalar_subquery()
