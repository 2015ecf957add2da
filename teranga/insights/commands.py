"""`teranga insights backfill|summary|export` and `teranga report` (docs/insights.md). The
parsers import nothing heavy: the database's libraries load only for these commands."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from teranga.settings import Settings

SUMMARY_COLUMNS = ("conversations", "contained", "handed_over", "abandoned", "with_fallback",
                   "kb_answers", "kb_misses", "satisfaction_answered", "satisfied")


def add_insights_commands(commands) -> None:
    insights = commands.add_parser(
        "insights", help="customer-experience figures: backfill, summary, CSV export",
        description="The analytics store (TERANGA_INSIGHTS_URL, SQLite by default), fed by the "
                    "desk from the assistant's events (docs/insights.md).")
    sub = insights.add_subparsers(dest="insights_command", required=True,
                                  metavar="INSIGHTS_COMMAND")
    backfill = sub.add_parser(
        "backfill", help="read every stored conversation into the analytics store",
        description="Fold every conversation the tracker store holds (REDIS_URL) into the "
                    "analytics store, over what it had: for a first run on existing history, "
                    "or after changing a metric's definition. Safe to run at any time.")
    backfill.set_defaults(handler=_backfill)
    shown = sub.add_parser("summary", help="print the main counts, by day or another grouping",
                           description="Print the counts of docs/insights.md as a table.")
    add_filters(shown)
    shown.add_argument("--by", default=None,
                       help="one row per day, week, hour, language, channel, intent, agent "
                            "or reason")
    shown.set_defaults(handler=_summary)
    export = sub.add_parser(
        "export", help="one CSV row per conversation",
        description="Write one CSV row per conversation (no customer id, no message text).")
    add_filters(export)
    export.add_argument("--out", required=True, help="the CSV file to write")
    export.set_defaults(handler=_export)
    irritants = sub.add_parser(
        "irritants", help="what the assistant missed, grouped by meaning, most customers first",
        description="Group the messages the assistant did not understand, the questions the "
                    "knowledge base could not answer and the last words of upset customers "
                    "by meaning in each language; print each group with its examples, the "
                    "agents' answers and the nearest article. `teranga kb draft --group N` "
                    "turns group N into a draft article.")
    add_filters(irritants)
    irritants.add_argument("--top", type=int, default=20, help="groups to show (default: 20)")
    irritants.set_defaults(handler=_irritants)
    report = commands.add_parser(
        "report", help="write a self-contained HTML report with the Insights charts",
        description="Write one HTML file with the Insights page's figures and charts for a "
                    "period, readable offline, for managers who do not use the desk.")
    add_filters(report)
    report.add_argument("--out", required=True, help="the HTML file to write")
    report.set_defaults(handler=_report)


def add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", default="7d",
                        help="the first day: 7d (the last 7 days) or YYYY-MM-DD "
                             "(default: %(default)s)")
    parser.add_argument("--until", default=None, help="the last day, YYYY-MM-DD")
    parser.add_argument("--language", default=None)
    parser.add_argument("--channel", default=None)
    parser.add_argument("--intent", default=None)


def _filters(args: argparse.Namespace, store):
    from teranga.insights.metrics import Filters

    return Filters.parse_since(args.since, store.hours.timezone, until=args.until,
                               language=args.language, channel=args.channel,
                               intent=args.intent)


def irritant_groups(args: argparse.Namespace, top: int = 20) -> list:
    """The groups `teranga insights irritants` lists, numbered from 1 in this order."""
    from teranga.insights.irritants import Irritants, nearest_article
    from teranga.insights.store import open_store
    from teranga.knowledge_base.service import KbSettings, KnowledgeBase

    store = open_store()
    knowledge_base = KnowledgeBase(KbSettings.from_env())
    finder = Irritants(store, knowledge_base.embedder.embed_queries,
                       nearest_article(knowledge_base))
    return finder.groups(_filters(args, store), limit=top)


def _irritants(args: argparse.Namespace) -> int:
    for number, group in enumerate(irritant_groups(args, args.top), start=1):
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(group.kinds.items()))
        print(f"{number}. [{group.language}] {group.customers} customer(s), "
              f"{group.messages} message(s) ({kinds})")
        for example in group.examples:
            print(f"     \"{' '.join(example.split())}\"")
        for answer in group.agent_answers:
            print(f"     an agent answered: {' '.join(answer.split())[:160]}")
        if group.nearest_article:
            print(f"     nearest article: {group.nearest_article['article_id']} "
                  f"(score {group.nearest_article['score']})")
    return 0


def draft(args: argparse.Namespace) -> int:
    """`teranga kb draft`: group N of `teranga insights irritants` as a draft article."""
    from teranga.insights.irritants import draft_article

    groups = irritant_groups(args, max(20, args.group))
    if not 1 <= args.group <= len(groups):
        raise ValueError(f"there are {len(groups)} group(s) for these filters; "
                         "`teranga insights irritants` lists them")
    group = groups[args.group - 1]
    if group.language == "unknown":
        raise ValueError("this group's language is unknown: no folder to write it in")
    path = draft_article(group, Settings.from_env().kb_dir, date.today())
    print(f"wrote {path}: write the answer, then move it up to {path.parent.parent}/ to "
          "publish it")
    return 0


def _backfill(args: argparse.Namespace) -> int:
    from teranga.insights.feed import Feed
    from teranga.insights.store import open_store
    from teranga.redis_connections import sync_redis

    settings = Settings.from_env()
    client = sync_redis(settings.require_redis_url("teranga insights backfill"), settings,
                        socket_timeout=30)
    store = open_store(settings)
    done = Feed(client, store).backfill()
    store.recount()  # rows an older version wrote without its totals count too
    print(f"read {done} conversation(s) into the analytics store and recounted its totals")
    return 0


def _summary(args: argparse.Namespace) -> int:
    from teranga.insights.metrics import summary
    from teranga.insights.store import open_store

    store = open_store()
    rows = summary(store, _filters(args, store), by=args.by)
    print("\t".join(["group", *SUMMARY_COLUMNS]))
    for row in rows:
        print("\t".join([str(row.get("group", "all")), *(str(row[c]) for c in SUMMARY_COLUMNS)]))
    return 0


def _export(args: argparse.Namespace) -> int:
    from teranga.insights.export import csv_rows
    from teranga.insights.store import open_store

    store = open_store()
    count = -1  # the header
    with open(args.out, "w", encoding="utf-8", newline="") as file:
        for chunk in csv_rows(store, _filters(args, store)):
            file.write(chunk)
            count += chunk.count("\n")
    print(f"wrote {count} conversation(s) to {args.out}", file=sys.stderr)
    return 0


def _report(args: argparse.Namespace) -> int:
    from teranga.insights.report import insights_data, write_report
    from teranga.insights.store import open_store

    store = open_store()
    data = insights_data(store, _filters(args, store),
                         Settings.from_env().agent_conversation_cost)
    data["irritants"] = [group.as_dict() for group in irritant_groups(args)]
    write_report(data, Path(args.out))
    conversations = data["totals"]["conversations"] if data["totals"] else 0
    print(f"wrote the report of {conversations} conversation(s) to {args.out}", file=sys.stderr)
    return 0
