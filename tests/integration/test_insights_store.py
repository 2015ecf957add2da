"""The analytics store fed from real Redis (trackers and the events stream), on SQLite and on a
real PostgreSQL server: the same facts, the same metrics, nothing that names a customer."""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter

import pytest
import redis
import sqlalchemy as sa

from teranga.handoff.availability import OpeningHours
from teranga.insights import rollup
from teranga.insights.facts import Facts, conversation_facts
from teranga.insights.feed import CHECKPOINT, Feed
from teranga.insights.metrics import GROUPS, Filters, summary
from teranga.insights.schema import conversations, metadata
from teranga.insights.store import InsightsStore
from tests.unit.test_insights_facts import T0, action, bot, slot, start, user

KEY = b"k" * 32
PHONE = "+221771234567"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path, postgres_url):
    if request.param == "sqlite":
        built = InsightsStore.sqlite(tmp_path / "insights.db", KEY)
    else:
        built = InsightsStore(postgres_url, KEY)
        with built.engine.begin() as connection:  # each test starts empty
            for table in reversed(metadata.sorted_tables):
                connection.execute(table.delete())
    yield built
    built.engine.dispose()


@pytest.fixture
def feed(real_redis_url, store):
    client = redis.Redis.from_url(real_redis_url)
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    yield Feed(client, store, stream=f"{prefix}:events", key_prefix=prefix)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def stored(feed: Feed, conversation_id: str, events: list[dict]) -> None:
    """The conversation's tracker as the tracker store keeps it, and its news on the stream."""
    events_key, session_key = feed.log.keys(conversation_id)
    feed.client.rpush(events_key, *(json.dumps(e) for e in events))
    feed.client.setnx(session_key, 0)
    feed.client.xadd(feed.stream, {"data": json.dumps({"conversation_id": conversation_id})})


CONTAINED = [*start(0), user(1, "combien pour envoyer", "send_money"),
             action(2, "action_answer_from_kb"), bot(2, "utter_kb_answer"),
             slot(2, "kb_miss", False)]
HANDED = [*start(0), user(1, f"rappelez moi au {PHONE}", "request_human", sentiment="negative"),
          slot(2, "handoff_reasons", ["asked_for_person", "negative_sentiment"]),
          action(2, "action_handoff"), bot(2, "utter_handoff_queued"),
          {"event": "pause", "timestamp": T0 + 32}, bot(42, agent="awa"),
          {"event": "resume", "timestamp": T0 + 92}, bot(93, "utter_ask_satisfaction"),
          user(95, "non", "deny"), bot(96, "utter_satisfaction_sorry")]
MISSED = [*start(0), user(1, f"mon numero {PHONE} xqz", "nlu_fallback", language="wo",
                          channel="telegram"),
          action(2, "action_ask_rephrase"), bot(2, "utter_ask_rephrase")]


def test_the_feed_writes_each_conversation_s_facts_and_the_metrics_count_them(feed, store):
    stored(feed, PHONE, CONTAINED)
    stored(feed, "web-1", HANDED)
    stored(feed, "tg-7", MISSED)
    assert feed.ingest() == 0  # the first run reads every tracker, then follows the stream
    (row,) = summary(store, now=T0 + 10_000)
    assert (row["conversations"], row["contained"], row["handed_over"], row["abandoned"],
            row["with_fallback"]) == (3, 2, 1, 1, 1)
    assert (row["satisfaction_asked"], row["satisfaction_answered"], row["satisfied"]) == (1, 1, 0)
    assert (row["time_to_handover"], row["handling"]) == (1.0, 60.0)
    assert (row["kb_answers"], row["negative"]) == (1, 1)
    reasons = {r["group"]: r["conversations"] for r in summary(store, by="reason")}
    assert reasons == {"asked_for_person": 1, "negative_sentiment": 1}
    by_language = {r["group"]: r["conversations"] for r in summary(store, by="language")}
    assert by_language == {"fr": 2, "wo": 1}
    assert [r["conversations"] for r in summary(store, Filters(channel="telegram"))] == [1]


def test_new_events_are_followed_and_a_replay_changes_no_count(feed, store):
    feed.ingest()
    stored(feed, "c1", CONTAINED)
    assert feed.ingest() == 1
    more = [user(300, "et pour retirer ?", "withdraw_cash"), bot(301, "utter_withdraw")]
    stored(feed, "c1", more)
    assert feed.ingest() == 1 and feed.ingest() == 0
    (row,) = summary(store)
    assert (row["conversations"], row["customer_messages"]) == (1, 2)
    store.set_checkpoint(CHECKPOINT, "0-0")  # a crash before the checkpoint: read again
    feed.ingest()
    assert summary(store)[0]["customer_messages"] == 2


def test_a_stream_trimmed_past_the_feed_s_place_makes_it_read_every_tracker(feed, store):
    feed.ingest()
    stored(feed, "a", CONTAINED)
    stored(feed, "b", HANDED)
    feed.client.xtrim(feed.stream, maxlen=1, approximate=False)  # "a"'s news is lost
    feed.ingest()
    assert summary(store)[0]["conversations"] == 2


def test_nothing_in_the_store_names_the_customer_and_erasing_them_removes_their_rows(feed, store):
    stored(feed, PHONE, MISSED)
    stored(feed, "other", CONTAINED)
    feed.ingest()
    with store.engine.connect() as connection:
        dump = json.dumps([[list(map(str, row)) for row in connection.execute(table.select())]
                           for table in metadata.sorted_tables])
    assert PHONE not in dump and "771234567" not in dump and "xqz" in dump  # masked, kept
    assert store.forget([PHONE]) == 1
    assert summary(store)[0]["conversations"] == 1


def test_days_weeks_and_hours_are_the_centre_s_and_queue_waits_split_by_opening_hours(tmp_path):
    hours = OpeningHours(timezone="Africa/Nairobi", weekly={})  # closed all week
    built = InsightsStore.sqlite(tmp_path / "i.db", KEY, hours)
    built.save("c", conversation_facts("c", HANDED))
    with built.engine.connect() as connection:
        row = connection.execute(sa.text("select day, week, hour, handed_in_hours "
                                         "from conversations")).one()
    # T0 + 1 is 2026-11-30 00:53:21 UTC: 03:53 in Nairobi, a Monday of ISO week 49
    assert (row.day, row.week, row.hour, bool(row.handed_in_hours)) == (
        "2026-11-30", "2026-W49", 3, False)
    (summed,) = summary(built)
    assert summed["queue_wait_out_of_hours"] == 30.0 and summed["queue_wait_in_hours"] is None


def test_the_csv_export_and_the_early_warnings_run_on_both_engines(feed, store):
    from teranga.insights.export import csv_rows
    from teranga.insights.warnings import early_warnings

    stored(feed, "b", HANDED)
    stored(feed, "a", CONTAINED)
    feed.ingest()
    text = "".join(csv_rows(store, now=T0 + 10_000))
    rows = text.strip().split("\n")
    assert len(rows) == 3 and "asked_for_person negative_sentiment" in text
    assert early_warnings(store, now=T0 + 3600) == []  # two conversations: no burst


def random_facts(rng: random.Random, conversation_id: str, now: float) -> Facts:
    """A conversation with every column drawn at random, NULLs included."""
    started = now - rng.uniform(0, 9 * 86400)
    facts = Facts(conversation_id, started, started + rng.uniform(1, 900),
                  channel=rng.choice(("telegram", "twilio_sms", None)),
                  language=rng.choice(("fr", "wo", "sw", None)),
                  intent=rng.choice(("send_money", "reset_pin", None)),
                  customer_messages=rng.randint(1, 5), fallbacks=rng.randint(0, 1),
                  kb_answers=rng.randint(0, 2), kb_misses=rng.randint(0, 1),
                  sentiments=Counter(positive=rng.randint(0, 2), negative=rng.randint(0, 2)),
                  ended_upset=rng.random() < 0.2, asked_to_rephrase=rng.random() < 0.2)
    if rng.random() < 0.5:
        facts.handed_over_at = started + rng.uniform(1, 60)
        facts.handover_reasons = rng.sample(["asked_for_person", "negative_sentiment",
                                             "not_understood"], rng.randint(0, 2))
        if rng.random() < 0.7:
            facts.claimed_at = facts.handed_over_at + rng.uniform(1, 600)
            facts.agent = rng.choice(("awa", "musa"))
            facts.first_agent_reply_at = facts.claimed_at + rng.uniform(1, 60)
            facts.returned_at = rng.choice((None, facts.first_agent_reply_at + 30))
            facts.satisfaction_asked = rng.random() < 0.5
            facts.satisfied = rng.choice((None, True, False))
    if rng.random() < 0.1:  # left waiting a moment ago: not abandoned yet
        facts.ended_at = now - 60
    return facts


QUESTIONS = [Filters(), Filters(language="wo"), Filters(intent="reset_pin"),
             Filters(channel="telegram", language="fr"), Filters(since="2000-01-01",
                                                                until="2100-01-01")]


def assert_the_totals_answer_as_the_rows(store: InsightsStore, now: float, monkeypatch) -> None:
    def answers() -> list:
        return [summary(store, question, by=by, now=now)
                for question in QUESTIONS for by in (None, *GROUPS)]

    from_totals = answers()
    with monkeypatch.context() as patched:
        patched.setattr(rollup, "grain_for", lambda by, filtered: None)
        from_rows = answers()
    assert [len(rows) for rows in from_totals] == [len(rows) for rows in from_rows]
    for totals, rows in zip(from_totals, from_rows, strict=True):
        for total, row in zip(totals, rows, strict=True):
            assert total == pytest.approx(row)
    assert all(rows for rows in from_rows)


def test_the_running_totals_answer_every_question_as_the_rows_do_through_rewrites_and_erasure(
        store, monkeypatch):
    rng, now = random.Random(7), T0 + 10 * 86400
    ids = [f"c{n}" for n in range(120)]
    store.save_many({i: [random_facts(rng, i, now)] for i in ids})
    assert_the_totals_answer_as_the_rows(store, now, monkeypatch)
    # conversations that went on (their rows replaced), some with a second session
    store.save_many({i: [random_facts(rng, i, now) for _ in range(rng.randint(1, 2))]
                     for i in ids[::3]})
    assert_the_totals_answer_as_the_rows(store, now, monkeypatch)
    store.forget(ids[::5])
    store.anonymise_before(now - 4 * 86400)
    assert_the_totals_answer_as_the_rows(store, now, monkeypatch)


def test_totals_kept_by_another_version_are_counted_again_from_the_rows(store, monkeypatch):
    rng, now = random.Random(8), T0 + 10 * 86400
    store.save_many({f"c{n}": [random_facts(rng, f"c{n}", now)] for n in range(40)})
    with store.engine.begin() as connection:  # as a store written before the totals existed
        connection.execute(rollup.rollup.delete())
        connection.execute(sa.text("update feed_state set value = '0' "
                                   "where name = 'rollup_version'"))
    assert summary(store, now=now) == []
    reopened = InsightsStore(str(store.engine.url.render_as_string(hide_password=False)), KEY)
    assert_the_totals_answer_as_the_rows(reopened, now, monkeypatch)
    reopened.engine.dispose()


def test_a_recount_takes_in_rows_an_older_version_wrote_without_totals(store, monkeypatch):
    rng, now = random.Random(9), T0 + 10 * 86400
    store.save_many({f"c{n}": [random_facts(rng, f"c{n}", now)] for n in range(30)})
    with store.engine.begin() as connection:  # an older process's rows: no totals kept
        rows = [dict(r._mapping) for r in connection.execute(sa.select(conversations))]
        connection.execute(conversations.insert(), [
            {**row, "id": row["id"] + "-old", "customer": "old"} for row in rows[:10]])
    assert summary(store, now=now)[0]["conversations"] == 30
    store.recount()
    assert summary(store, now=now)[0]["conversations"] == 40
    assert_the_totals_answer_as_the_rows(store, now, monkeypatch)


def test_the_backfill_command_reads_the_trackers_and_recounts(real_redis_url, tmp_path):
    import os
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "teranga", "insights", "backfill"], capture_output=True,
        text=True, timeout=120, env={**os.environ, "REDIS_URL": real_redis_url,
                                     "TERANGA_INSIGHTS_URL": url})
    assert result.returncode == 0, result.stderr
    assert "recounted its totals" in result.stdout


def _open_store(url: str) -> None:
    InsightsStore(url, KEY).engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_desks_starting_together_on_a_new_store_all_start(backend, tmp_path, postgres_url):
    """Two desks started at once on an empty database both made its tables; the one that
    lost the race crashed ("table handover_reasons already exists"), found by
    bench/cluster.py."""
    import multiprocessing

    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'insights.db'}"
    else:
        url = postgres_url.rsplit("/", 1)[0] + f"/teranga_race_{uuid.uuid4().hex[:8]}"
        server = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"'))
    context = multiprocessing.get_context("spawn")
    openers = [context.Process(target=_open_store, args=(url,)) for _ in range(6)]
    for opener in openers:
        opener.start()
    for opener in openers:
        opener.join(120)
    assert [opener.exitcode for opener in openers] == [0] * len(openers)
    if backend == "postgresql":
        with server.connect() as connection:
            connection.execute(sa.text(
                f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
