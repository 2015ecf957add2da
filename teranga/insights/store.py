"""The analytics store: one row per conversation (its facts, teranga/insights/facts.py), its
hand-over reasons, and what the customer wrote that the assistant missed, masked.

One schema and one query layer (SQLAlchemy Core) over two engines: SQLite by default, a file
under `.teranga/`, so that `make demo` needs nothing installed; PostgreSQL
(`TERANGA_INSIGHTS_URL=postgresql://...`) beyond one machine. Why these: docs/decisions.md.

Nothing here can name a customer: conversations are keyed by a keyed hash of their id
(`pseudonym`), and texts are masked (teranga/privacy/personal_data.py) before they are
written. Erasing a customer deletes the rows of their pseudonym.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import uuid
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from teranga.handoff.availability import DeskSettings, OpeningHours, load_settings
from teranga.insights import rollup
from teranga.insights.facts import Facts
from teranga.insights.schema import (
    conversations,
    feed_state,
    handover_reasons,
    metadata,
    missed_messages,
)
from teranga.privacy.personal_data import mask
from teranga.settings import PROJECT_ROOT, Settings, saved_secret

DEFAULT_DATABASE = PROJECT_ROOT / ".teranga" / "insights.db"
KEY_FILE = PROJECT_ROOT / ".teranga" / "insights-key"
ANONYMOUS = "anonymous"

logger = logging.getLogger(__name__)
MAX_TEXT_CHARS = 500  # a missed message is kept as an example, not as a record


SCHEMA_ATTEMPTS = 10


def _create_schema(engine: sa.Engine) -> None:
    """The tables, and an index added since the database was made. Desks starting together
    race to make them: PostgreSQL takes them one at a time (the totals' lock); on SQLite the
    loser's CREATE fails ("already exists") and it looks again."""
    for attempt in range(SCHEMA_ATTEMPTS):
        try:
            with engine.begin() as connection:
                rollup.lock(connection)
                metadata.create_all(connection)
                for table in metadata.sorted_tables:
                    for index in table.indexes:
                        index.create(connection, checkfirst=True)
            return
        except sa.exc.OperationalError as error:
            if "already exists" not in str(error) or attempt == SCHEMA_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


class InsightsStore:
    """The tables on one engine; `save` is idempotent (a conversation's rows are replaced)."""

    def __init__(self, url: str, key: bytes, hours: OpeningHours | None = None) -> None:
        self.engine = sa.create_engine(url, future=True, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self.key = key
        self.hours = hours or DeskSettings().hours  # UTC, open every hour, as the desk's
        _create_schema(self.engine)
        rollup.rebuild_if_outdated(self.engine)

    @classmethod
    def sqlite(cls, path: Path, key: bytes, hours: OpeningHours | None = None) -> InsightsStore:
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls(f"sqlite:///{path}", key, hours)

    def pseudonym(self, conversation_id: str) -> str:
        """The keyed hash standing for a conversation id: stable, not reversible without the
        key, and the same for the erase command as for the feed."""
        digest = hmac.new(self.key, conversation_id.encode("utf-8"), hashlib.sha256)
        return digest.hexdigest()[:32]

    def save(self, conversation_id: str, all_facts: Iterable[Facts]) -> int:
        """Write the facts of a conversation's sessions over what the store had of them."""
        return self.save_many({conversation_id: list(all_facts)})

    def save_many(self, facts_by_conversation: dict[str, list[Facts]]) -> int:
        """`save` for several conversations in one transaction (one commit for a batch of
        the feed). How many sessions were written."""
        rows, reasons, missed = [], [], []
        for conversation_id, all_facts in facts_by_conversation.items():
            customer = self.pseudonym(conversation_id)
            for facts in all_facts:
                row = self._row(customer, facts)
                rows.append(row)
                reasons += [{"conversation_id": row["id"], "reason": reason[:40]}
                            for reason in dict.fromkeys(facts.handover_reasons)]
                missed += [{"conversation_id": row["id"], "at": at, "kind": kind,
                            "language": facts.language, "text": mask(text[:MAX_TEXT_CHARS])}
                           for at, kind, text in dict.fromkeys(facts.missed_messages)]
        ids = [row["id"] for row in rows]
        with self.engine.begin() as connection:
            rollup.lock(connection)
            self._delete(connection, ids)
            for table, values in ((conversations, rows), (handover_reasons, reasons),
                                  (missed_messages, missed)):
                if values:
                    connection.execute(table.insert(), values)
            rollup.add(connection, ids)
        return len(rows)

    def forget(self, conversation_ids: Iterable[str]) -> int:
        """Delete every row of these conversations (a customer's erasure); how many."""
        customers = [self.pseudonym(c) for c in conversation_ids]
        with self.engine.begin() as connection:
            rollup.lock(connection)
            ids = [r.id for r in connection.execute(sa.select(conversations.c.id).where(
                conversations.c.customer.in_(customers)))]
            self._delete(connection, ids)
        return len(ids)

    def anonymise_before(self, ended_before: float) -> int:
        """The conversations that ended before this time cut from their customer: a new
        random id each, no pseudonym, no example texts. Their counts stay (the retention
        period's anonymous aggregates). How many."""
        c = conversations.c
        with self.engine.begin() as connection:
            rollup.lock(connection)  # a rewrite of these rows must not cross the renaming
            ids = [r.id for r in connection.execute(sa.select(c.id).where(
                c.ended_at < ended_before, c.customer != ANONYMOUS))]
            connection.execute(missed_messages.delete().where(
                missed_messages.c.conversation_id.in_(ids)))
            connection.execute(conversations.update().where(c.id.in_(ids)).values(
                agent_answer=None))
            for old in ids:
                new = f"{ANONYMOUS}-{uuid.uuid4().hex}"
                connection.execute(handover_reasons.update().where(
                    handover_reasons.c.conversation_id == old).values(conversation_id=new))
                connection.execute(conversations.update().where(c.id == old).values(
                    id=new, customer=ANONYMOUS))
        return len(ids)

    def held_about(self, conversation_ids: Iterable[str]) -> int:
        """How many conversation rows the store holds of these conversations."""
        customers = [self.pseudonym(c) for c in conversation_ids]
        with self.engine.connect() as connection:
            return connection.execute(sa.select(sa.func.count()).select_from(conversations)
                                      .where(conversations.c.customer.in_(customers))).scalar()

    def recount(self) -> None:
        """Every running total counted again from the rows (after processes of a version
        without them wrote rows: a rolling upgrade)."""
        rollup.rebuild_if_outdated(self.engine, force=True)

    def checkpoint(self, name: str) -> str | None:
        with self.engine.connect() as connection:
            return connection.execute(sa.select(feed_state.c.value).where(
                feed_state.c.name == name)).scalar()

    def set_checkpoint(self, name: str, value: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(feed_state.delete().where(feed_state.c.name == name))
            connection.execute(feed_state.insert().values(name=name, value=value))

    def _row(self, customer: str, facts: Facts) -> dict:
        start = datetime.fromtimestamp(facts.started_at, ZoneInfo(self.hours.timezone))
        year, week, _ = start.isocalendar()
        handed = facts.handed_over_at
        return {
            "id": f"{customer}@{facts.started_at:.3f}", "customer": customer,
            "started_at": facts.started_at, "ended_at": facts.ended_at,
            "day": start.date().isoformat(), "week": f"{year}-W{week:02d}", "hour": start.hour,
            "channel": facts.channel, "language": facts.language, "intent": facts.intent,
            "customer_messages": facts.customer_messages, "bot_messages": facts.bot_messages,
            "agent_messages": facts.agent_messages, "contained": facts.contained,
            "handed_over_at": handed,
            "handed_in_hours": None if handed is None else self.hours.is_open(
                datetime.fromtimestamp(handed, timezone.utc)),
            "claimed_at": facts.claimed_at, "first_agent_reply_at": facts.first_agent_reply_at,
            "returned_at": facts.returned_at, "agent": facts.agent,
            "fallbacks": facts.fallbacks, "kb_answers": facts.kb_answers,
            "kb_misses": facts.kb_misses,
            **{label: facts.sentiments.get(label, 0) for label in ("positive", "neutral",
                                                                   "negative")},
            "ended_upset": facts.ended_upset, "satisfaction_asked": facts.satisfaction_asked,
            "satisfied": facts.satisfied, "left_waiting": facts.left_waiting,
            "agent_answer": mask(facts.agent_answer[:MAX_TEXT_CHARS])
            if facts.agent_answer else None,
        }

    @staticmethod
    def _delete(connection, ids: list[str]) -> None:
        """These conversations' rows gone, and taken away from the running totals (the
        transaction holds the writers' lock)."""
        rollup.add(connection, ids, -1)
        for table, column in ((handover_reasons, handover_reasons.c.conversation_id),
                              (missed_messages, missed_messages.c.conversation_id),
                              (conversations, conversations.c.id)):
            connection.execute(table.delete().where(column.in_(ids)))


def open_store(settings: Settings | None = None) -> InsightsStore:
    """The store the settings name (TERANGA_INSIGHTS_URL, else SQLite under `.teranga/`), with
    the pseudonyms' key (TERANGA_INSIGHTS_KEY, else one generated once) and the centre's
    opening hours and time zone (the desk's settings)."""
    settings = settings or Settings.from_env()
    key = saved_secret(settings.insights_key, KEY_FILE, create=True).encode("utf-8")
    try:
        hours = load_settings(settings.desk_settings_file).hours
    except ValueError as error:  # days and hours in UTC, all open, rather than no insights
        logger.warning("Insights use UTC and no opening hours: %s", error)
        hours = DeskSettings().hours
    if settings.insights_url:
        return InsightsStore(settings.insights_url, key, hours)
    return InsightsStore.sqlite(DEFAULT_DATABASE, key, hours)


def _sqlite_pragmas(connection, _record) -> None:
    """WAL: the desk writes while a report reads; a writer waits rather than fails."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
