"""Insights at scale (issue 17): the dashboard's query times at 10,000, 100,000 and 1,000,000
conversations, and the feed's ingest rate, on SQLite and on PostgreSQL, against the targets
(every dashboard query under 500 ms at a million conversations; the feed keeps up with 5,000
events per second).

    .venv/bin/python bench/insights.py [--sizes 10000 100000 1000000]
        [--engines sqlite postgresql] [--quick] [--runs 3] [--ingest-conversations 2500]

Data: synthetic and seeded. Conversations spread over the last 90 days (more by day than at
night), the five languages, the five channels, 20 intents, ~30% handed over with reasons
from teranga/handoff/triggers.py, 25 agents, queue waits, handling times, satisfaction and
sentiments; ~8% hold a message the assistant missed (masked on write, as in production).
They are written as `Facts` through `InsightsStore.save_many` in batches of 4,000, and the
store grows from one size to the next (10k, then 90k more, then 900k more); load time is
reported, not a target.

Queries: what the page makes, `insights_data(store, Filters(since=90 days ago), 0)`, one
`summary` at a time (totals, then by day, week, hour, language, channel, intent, agent and
reason) and the early warnings; then one filtered by language, the hours, agents and reasons
filtered by an intent (no running total holds those: read from the rows), and the CSV export
(`csv_rows`, read to the end; one run at a million); each the best and the median of `--runs`
runs. "Whole page" adds up the ten queries of `insights_data`. Baseline in the same run, at
the same size: a plain `SELECT count(*) FROM conversations`.

Ingest: the real feed (`Feed.ingest`) on a real Redis (REDIS_URL, default
redis://127.0.0.1:6379/11; only that db is flushed). Trackers are written as the tracker
store keeps them (the events list and the session key) and the broker's entries are added to
the events stream, one per event it publishes (user, bot, pause, resume), in time order
across conversations (many conversations at once, as in a busy centre). The checkpoint is set
before the stream is written, so that what is timed is the steady-state path, not the first
run's backfill. Timed with the store empty and with the largest size loaded.

PostgreSQL: POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres); a database
of the benchmark's own is created and dropped at the end. `VACUUM ANALYZE` runs after each
load (what autovacuum would do). SQLite: a file under /tmp, removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import redis
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from teranga.agent_desk.events import desk_view  # noqa: E402
from teranga.handoff import triggers  # noqa: E402
from teranga.handoff.availability import OpeningHours, load_settings  # noqa: E402
from teranga.insights.export import csv_rows  # noqa: E402
from teranga.insights.facts import Facts  # noqa: E402
from teranga.insights.feed import CHECKPOINT, Feed  # noqa: E402
from teranga.insights.metrics import GROUPS, Filters, summary  # noqa: E402
from teranga.insights.report import insights_data  # noqa: E402
from teranga.insights.schema import metadata  # noqa: E402
from teranga.insights.store import InsightsStore  # noqa: E402
from teranga.insights.warnings import early_warnings  # noqa: E402
from teranga.settings import PROJECT_ROOT  # noqa: E402

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/11")
POSTGRES_URL = os.environ.get("POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
QUERY_TARGET_MS = 500
INGEST_TARGET = 5000  # events per second
LOAD_BATCH = 4000
DAYS = 90
KEY = b"bench-insights-key-0123456789abcdef"
PREFIX = "bench"

LANGUAGES = (("fr", 40), ("wo", 25), ("en", 15), ("ha", 10), ("sw", 10))
CHANNELS = (("twilio_whatsapp", 40), ("twilio_sms", 25), ("telegram", 15), ("rest", 10),
            ("socketio", 10))
INTENTS = ("check_balance", "send_money", "withdraw_cash", "deposit_cash", "buy_airtime",
           "pay_bill", "reset_pin", "block_card", "report_fraud", "transaction_status",
           "fees", "open_account", "kyc_documents", "agent_location", "loan_request",
           "loan_repayment", "merchant_payment", "refund_request", "change_phone",
           "complaint")
REASONS = ((triggers.ASKED_FOR_PERSON, 35), (triggers.NEGATIVE_SENTIMENT, 20),
           (triggers.NOT_UNDERSTOOD, 20), (triggers.REPEATED_FALLBACK, 12),
           (triggers.CALLBACK_REQUESTED, 6), (triggers.ACTION_ERROR, 3),
           (triggers.VOICE_NOTE, 2), (triggers.DOCUMENT, 2))
AGENTS = tuple(f"agent{n:02d}" for n in range(25))
# conversations per hour of day (a centre's day: quiet at night, peaks late morning, evening)
HOURS = (1, 1, 1, 1, 1, 2, 4, 7, 10, 12, 12, 11, 10, 10, 11, 11, 10, 9, 9, 8, 6, 4, 3, 2)
MISSED_TEXTS = ("je comprends pas xqz mon compte", "nafa ma yobbu xaalis bi", "wapi pesa yangu",
                "ina son kudi na", "my money never came through")


def _pick(rng: random.Random, weighted) -> str:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def _start_time(rng: random.Random, now: float) -> float:
    day = rng.randrange(DAYS)
    hour = rng.choices(range(24), HOURS)[0]
    midnight = (datetime.fromtimestamp(now, timezone.utc) - timedelta(days=day)).replace(
        hour=0, minute=0, second=0, microsecond=0).timestamp()
    return min(now - 3600 * 2, midnight + hour * 3600 + rng.random() * 3600)


def synthetic_facts(index: int, rng: random.Random, now: float) -> Facts:
    """One conversation's facts, drawn from the distributions above."""
    started = _start_time(rng, now)
    customer_messages = rng.randint(1, 8)
    facts = Facts(conversation_id=f"bench-{index}", started_at=started, ended_at=started,
                  channel=_pick(rng, CHANNELS), language=_pick(rng, LANGUAGES),
                  intent=rng.choice(INTENTS) if rng.random() < 0.95 else None,
                  customer_messages=customer_messages,
                  bot_messages=customer_messages + rng.randint(0, 3))
    at = started + rng.uniform(5, 240)
    if rng.random() < 0.30:  # handed over
        facts.handed_over_at = at
        facts.handover_reasons = list(dict.fromkeys(
            _pick(rng, REASONS) for _ in range(1 if rng.random() < 0.7 else 2)))
        if rng.random() < 0.85:  # an agent took it
            facts.claimed_at = at + rng.expovariate(1 / 240)
            facts.agent = rng.choice(AGENTS)
            facts.agent_messages = rng.randint(1, 6)
            facts.first_agent_reply_at = facts.claimed_at + rng.uniform(5, 120)
            if rng.random() < 0.9:
                facts.returned_at = facts.first_agent_reply_at + rng.expovariate(1 / 420)
                if rng.random() < 0.6:
                    facts.satisfaction_asked = True
                    if rng.random() < 0.55:
                        facts.satisfied = rng.random() < 0.75
            at = facts.returned_at or facts.first_agent_reply_at
        else:
            at = at + rng.uniform(1, 30)
    else:
        at += rng.uniform(1, 300)
        facts.kb_answers = rng.choices((0, 1, 2), (4, 5, 1))[0]
        facts.kb_misses = 1 if rng.random() < 0.12 else 0
    facts.ended_at = at
    if rng.random() < 0.08:
        facts.fallbacks = rng.randint(1, 2)
        facts.asked_to_rephrase = facts.contained and rng.random() < 0.3
        facts.missed_messages = [(started + 1, "not_understood", rng.choice(MISSED_TEXTS))]
    labels = rng.choices(("positive", "neutral", "negative"), (2, 6, 2), k=customer_messages)
    facts.sentiments = Counter(labels)
    facts.ended_upset = labels[-1] == "negative"
    return facts


def load(store: InsightsStore, first: int, last: int, now: float, seed: int) -> float:
    """Conversations first..last-1 written in batches; the seconds it took."""
    began = time.perf_counter()
    for start in range(first, last, LOAD_BATCH):
        rng = random.Random(seed * 1_000_003 + start)
        batch = {f"bench-{i}": [synthetic_facts(i, rng, now)]
                 for i in range(start, min(last, start + LOAD_BATCH))}
        store.save_many(batch)
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(sa.text("VACUUM ANALYZE"))
    return time.perf_counter() - began


# --- query timing ------------------------------------------------------------------------------


def timed(function, runs: int) -> tuple[float, float]:
    """Best and median of `runs` runs, in milliseconds."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        function()
        times.append((time.perf_counter() - began) * 1000)
    return min(times), statistics.median(times)


def query_times(store: InsightsStore, now: float, runs: int, csv_runs: int) -> dict:
    filters = Filters.parse_since(f"{DAYS}d", store.hours.timezone, now=now)

    def count():
        with store.engine.connect() as connection:
            return connection.execute(sa.text("SELECT count(*) FROM conversations")).scalar()

    results = {"count(*) baseline": timed(count, runs)}
    results["totals"] = timed(lambda: summary(store, filters, now=now), runs)
    for by in GROUPS:
        results[f"by {by}"] = timed(lambda by=by: summary(store, filters, by=by, now=now), runs)
    results["early warnings"] = timed(lambda: early_warnings(store, now), runs)
    by_language = Filters(since=filters.since, language="wo")
    results["totals, language=wo"] = timed(lambda: summary(store, by_language, now=now), runs)
    results["by day, language=wo"] = timed(
        lambda: summary(store, by_language, by="day", now=now), runs)
    # no running total holds hours, agents or reasons with the intent: read from the rows
    by_intent = Filters(since=filters.since, intent="send_money")
    for by in ("hour", "agent", "reason"):
        results[f"by {by}, intent=send_money (rows)"] = timed(
            lambda by=by: summary(store, by_intent, by=by, now=now), runs)
    # the page's queries one after another (insights_data), added up rather than run again
    page = [results["totals"], *(results[f"by {by}"] for by in GROUPS),
            results["early warnings"]]
    results["whole page (sum of the 10)"] = (sum(b for b, _ in page), sum(m for _, m in page))
    results["CSV export (all rows)"] = timed(
        lambda: sum(len(part) for part in csv_rows(store, filters, now=now)), csv_runs)
    return results


# --- ingest ------------------------------------------------------------------------------------


def tracker(rng: random.Random, started: float) -> list[dict]:
    """A conversation's tracker events, shaped as tests/unit/test_insights_facts.py's helpers
    (as Rasa 3.6 stores them): 10 to 20 events, a third handed over."""
    language, channel = _pick(rng, LANGUAGES), _pick(rng, CHANNELS)
    clock = [started]

    def at(step: float = 0.0) -> float:
        clock[0] += step
        return clock[0]

    def user(text, intent, sentiment="neutral"):
        return {"event": "user", "timestamp": at(rng.uniform(3, 40)), "text": text,
                "input_channel": channel,
                "parse_data": {"intent": {"name": intent, "confidence": 0.9},
                               "entities": [{"entity": "language", "value": language}],
                               "sentiment": {"label": sentiment, "score": 0.0}}}

    def bot(response=None, agent=None, notice=None):
        meta = {"utter_action": response} if response else {}
        if agent:
            meta.update(agent=agent, agent_name=agent.title())
        if notice:
            meta["teranga_notice"] = notice
        return {"event": "bot", "timestamp": at(rng.uniform(0.5, 2)), "text": "...",
                "metadata": meta}

    def action(name):
        return {"event": "action", "timestamp": at(0.1), "name": name}

    def slot(name, value):
        return {"event": "slot", "timestamp": at(), "name": name, "value": value}

    intent = rng.choice(INTENTS)
    events = [action("action_session_start"), {"event": "session_started", "timestamp": at()},
              action("action_listen"), user("bonjour", "greet"), action("utter_greet"),
              bot("utter_greet"), action("action_listen")]
    if rng.random() < 0.1:
        events += [user(rng.choice(MISSED_TEXTS), "nlu_fallback"),
                   action("action_ask_rephrase"), bot("utter_ask_rephrase"),
                   action("action_listen")]
    events += [user(f"question about {intent}", intent)]
    if rng.random() < 0.3:
        agent = rng.choice(AGENTS)
        reasons = [_pick(rng, REASONS)]
        events += [slot("handoff_reasons", reasons), action("action_handoff"),
                   bot("utter_handoff_queued"), action("action_listen"),
                   {"event": "pause", "timestamp": at(rng.uniform(10, 300))},
                   bot(agent=agent, notice="joined"), bot(agent=agent),
                   user("merci", "thank", sentiment="positive"), bot(agent=agent),
                   {"event": "resume", "timestamp": at(rng.uniform(10, 300))},
                   slot("handoff_agent", agent), bot("utter_ask_satisfaction"),
                   user("oui", "affirm"), action("action_record_satisfaction"),
                   bot("utter_satisfaction_thanks")]
    else:
        events += [action("action_answer_from_kb"), bot("utter_kb_answer"),
                   slot("kb_article", intent), slot("kb_miss", rng.random() < 0.12),
                   action("action_listen"), user("merci", "thank", sentiment="positive"),
                   bot("utter_goodbye"), action("action_listen")]
    return events


def write_traffic(feed: Feed, conversations: int, now: float, seed: int) -> tuple[int, int]:
    """The trackers written, and the broker's stream entries added in time order across all
    conversations (their starts spread over a few minutes, so that they overlap as in a busy
    centre). How many stream entries, and tracker events."""
    rng = random.Random(seed)
    entries, tracker_events = [], 0
    pipe = feed.client.pipeline(transaction=False)
    for n in range(conversations):
        conversation_id = f"ingest-{seed}-{n}"
        events = tracker(rng, now - 1800 + rng.uniform(0, 600))
        tracker_events += len(events)
        events_key, session_key = feed.log.keys(conversation_id)
        pipe.rpush(events_key, *(json.dumps(e) for e in events))
        pipe.set(session_key, 0)
        for event in events:
            view = desk_view({**event, "sender_id": conversation_id})
            if view is not None:
                entries.append((event["timestamp"], view))
        if n % 500 == 499:
            pipe.execute()
    pipe.execute()
    entries.sort(key=lambda entry: entry[0])
    for start in range(0, len(entries), 2000):
        for _, view in entries[start:start + 2000]:
            pipe.xadd(feed.stream, {"data": json.dumps(view, ensure_ascii=False)})
        pipe.execute()
    return len(entries), tracker_events


def ingest_rate(store: InsightsStore, conversations: int, now: float, seed: int) -> dict:
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    feed = Feed(client, store, stream=f"{PREFIX}:events", key_prefix=PREFIX)
    store.set_checkpoint(CHECKPOINT, "0-0")  # the steady-state path, not the first backfill
    entries, tracker_events = write_traffic(feed, conversations, now, seed)
    calls, read = 0, 0
    began = time.perf_counter()
    while count := feed.ingest():
        read += count
        calls += 1
    seconds = time.perf_counter() - began
    client.flushdb()
    client.close()
    assert read == entries, (read, entries)
    return {"entries": entries, "tracker_events": tracker_events, "conversations": conversations,
            "calls": calls, "seconds": seconds, "rate": entries / seconds}


# --- engines -----------------------------------------------------------------------------------


class Engine:
    """A store of the benchmark's own on one engine, removed at the end."""

    def __init__(self, name: str, hours: OpeningHours) -> None:
        self.name = name
        if name == "sqlite":
            self.folder = tempfile.TemporaryDirectory(prefix="teranga-bench-insights-")
            self.store = InsightsStore.sqlite(Path(self.folder.name) / "insights.db", KEY, hours)
        else:
            self.server = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT",
                                           future=True)
            self.database = f"teranga_bench_{uuid.uuid4().hex[:10]}"
            with self.server.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{self.database}"'))
            url = self.server.url.set(database=self.database).render_as_string(
                hide_password=False)
            self.store = InsightsStore(url, KEY, hours)

    def empty(self) -> None:
        with self.store.engine.begin() as connection:
            for table in reversed(metadata.sorted_tables):
                connection.execute(table.delete())

    def close(self) -> None:
        self.store.engine.dispose()
        if self.name == "sqlite":
            self.folder.cleanup()
        else:
            with self.server.connect() as connection:
                connection.execute(sa.text(
                    f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
            self.server.dispose()


def run_engine(name: str, sizes: list[int], args, hours: OpeningHours, now: float) -> dict:
    engine = Engine(name, hours)
    out = {"queries": {}, "loads": {}, "ingest": {}}
    try:
        insights_data(engine.store, Filters(), 0, now=now)  # imports and connections warm
        ingest_rate(engine.store, 50, now, seed=99)  # untimed warm-up (lazy imports, caches)
        engine.empty()
        print(f"[{name}] ingest, empty store...", file=sys.stderr, flush=True)
        out["ingest"][0] = ingest_rate(engine.store, args.ingest_conversations, now, seed=1)
        engine.empty()
        loaded = 0
        for size in sizes:
            print(f"[{name}] loading to {size:,}...", file=sys.stderr, flush=True)
            out["loads"][size] = (size - loaded, load(engine.store, loaded, size, now, args.seed))
            loaded = size
            print(f"[{name}] queries at {size:,}...", file=sys.stderr, flush=True)
            csv_runs = args.runs if size < 1_000_000 else 1
            out["queries"][size] = query_times(engine.store, now, args.runs, csv_runs)
        print(f"[{name}] ingest at {loaded:,}...", file=sys.stderr, flush=True)
        out["ingest"][loaded] = ingest_rate(engine.store, args.ingest_conversations, now, seed=2)
    finally:
        engine.close()
    return out


# --- tables ------------------------------------------------------------------------------------


def print_tables(results: dict, sizes: list[int], runs: int) -> None:
    print("## Loading the synthetic conversations (`save_many`, batches of "
          f"{LOAD_BATCH:,}; reported, not a target)\n")
    print("| engine | to size | conversations written | seconds | conversations/s |")
    print("|---|---:|---:|---:|---:|")
    for name, out in results.items():
        for size, (written, seconds) in out["loads"].items():
            print(f"| {name} | {size:,} | {written:,} | {seconds:.1f} | {written / seconds:,.0f} |")
    for size in sizes:
        print(f"\n## Dashboard queries at {size:,} conversations (last {DAYS} days; ms, best / "
              f"median of {runs}; target < {QUERY_TARGET_MS} ms per query)\n")
        names = list(results)
        print("| query | " + " | ".join(f"{n} best | {n} median | {n} × count(*)"
                                         for n in names) + " | target |")
        print("|---|" + "---:|---:|---:|" * len(names) + "---|")
        rows = list(next(iter(results.values()))["queries"][size])
        for row in rows:
            cells, verdicts = [], []
            for name in names:
                timings = results[name]["queries"][size]
                best, median = timings[row]
                baseline = timings["count(*) baseline"][0]
                cells.append(f"{best:,.1f} | {median:,.1f} | {best / baseline:,.1f}")
                if row.startswith(("count", "whole", "CSV")):
                    continue
                verdicts.append(f"{name} {'ok' if median < QUERY_TARGET_MS else 'MISSED'}")
            target = ", ".join(verdicts) if verdicts else "(not a single query)"
            print(f"| {row} | " + " | ".join(cells) + f" | {target} |")
    print(f"\n## Ingest through the feed (`Feed.ingest` until caught up; target {INGEST_TARGET:,} "
          "events/s)\n")
    print("| engine | store holds | conversations | stream entries (events) | tracker events "
          "| ingest calls | seconds | events/s | target |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for name, out in results.items():
        for size, r in out["ingest"].items():
            verdict = "ok" if r["rate"] >= INGEST_TARGET else "MISSED"
            print(f"| {name} | {size:,} | {r['conversations']:,} | {r['entries']:,} | "
                  f"{r['tracker_events']:,} | {r['calls']} | {r['seconds']:.2f} | "
                  f"{r['rate']:,.0f} | {verdict} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--engines", nargs="+", choices=("sqlite", "postgresql"),
                        default=["sqlite", "postgresql"])
    parser.add_argument("--quick", action="store_true", help="10,000 conversations only")
    parser.add_argument("--runs", type=int, default=3, help="runs of each query")
    parser.add_argument("--ingest-conversations", type=int, default=2500)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    sizes = [10_000] if args.quick else sorted(set(args.sizes))
    try:
        hours = load_settings(PROJECT_ROOT / "desk" / "settings.yml").hours
    except ValueError:
        hours = OpeningHours()
    now = time.time()
    began = time.perf_counter()
    results = {name: run_engine(name, sizes, args, hours, now) for name in args.engines}
    print(f"Run of {datetime.now(ZoneInfo(hours.timezone)).isoformat(timespec='minutes')}, "
          f"sizes {', '.join(f'{s:,}' for s in sizes)}, engines {', '.join(args.engines)}, "
          f"{os.cpu_count()} cores; took {time.perf_counter() - began:.0f} s.\n")
    print_tables(results, sizes, args.runs)


if __name__ == "__main__":
    main()
