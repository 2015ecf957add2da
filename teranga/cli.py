"""`teranga`: run, train and talk to the assistant."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
import uuid
from contextlib import nullcontext

from teranga import languages, redis_keys, runtime
from teranga.http_api import api_token, auth_header
from teranga.insights.commands import add_filters, add_insights_commands
from teranga.insights.commands import draft as draft_article_command
from teranga.observability.logs import use_log_format
from teranga.privacy.logs import mask_personal_data_in_logs
from teranga.redis_connections import async_redis, describe, sync_redis
from teranga.settings import PROJECT_ROOT, Settings, masked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="teranga", description="Teranga, a multilingual customer-service assistant.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="train if needed, then run Redis, the action server and the Rasa server",
        description="Train the model if its inputs changed, start an embedded Redis-compatible "
                    "server when REDIS_URL is not set, start the action server and the Rasa "
                    "server (REST channel and HTTP API), print their URLs and run until Ctrl-C.")
    demo.add_argument("--host", default=Settings.from_env().host,
                      help="interface the Rasa server listens on (default: %(default)s)")
    demo.set_defaults(handler=_demo)

    train = commands.add_parser(
        "train", help="train the Rasa model if its inputs changed",
        description="Train the Rasa model into TERANGA_MODELS_DIR (default: models/) when the "
                    "config, domain, training data or NLU code changed since the last training.")
    train.add_argument("--force", action="store_true", help="train even if nothing changed")
    train.set_defaults(handler=_train)

    chat = commands.add_parser(
        "chat", help="talk to the running assistant in the terminal",
        description="Talk to a running assistant through its REST channel. Each line you type "
                    "is one message; the language and sentiment the assistant detected are "
                    "shown after each reply. Ctrl-D or /quit to leave.")
    chat.add_argument("--url", default=Settings.from_env().rasa_url,
                      help="Rasa server URL (default: %(default)s)")
    chat.add_argument("--sender", default=None, help="conversation id (default: a new one)")
    chat.add_argument("--quiet", action="store_true", help="do not show language and sentiment")
    chat.set_defaults(handler=_chat)

    desk = commands.add_parser(
        "desk", help="run the agents' desk (web application) on its own",
        description="Serve the agents' desk: take escalations from the Redis queue, route them "
                    "to agents and let agents answer customers. `teranga demo` starts it too; "
                    "run several behind a load balancer if you like (they share Redis).")
    desk.add_argument("--host", default=Settings.from_env().host,
                      help="interface to listen on (default: %(default)s)")
    desk.add_argument("--port", type=int, default=Settings.from_env().desk_port,
                      help="port (default: %(default)s, or TERANGA_DESK_PORT)")
    desk.add_argument("--rasa-url", default=Settings.from_env().rasa_url,
                      help="the Rasa server's HTTP API (default: %(default)s)")
    desk.set_defaults(handler=_desk)

    token = commands.add_parser(
        "api-token", help="print a bearer token for the Rasa HTTP API (valid 5 minutes)",
        description="Print a short-lived JWT for the Rasa HTTP API, signed with "
                    "TERANGA_API_TOKEN or the secret `teranga demo` saved in "
                    ".teranga/api-token: curl -H \"Authorization: Bearer $(teranga api-token)\" "
                    "http://127.0.0.1:5005/conversations/<id>/tracker")
    token.set_defaults(handler=_api_token)

    _add_kb_commands(commands)
    _add_agent_commands(commands)
    _add_privacy_commands(commands)
    _add_tracker_commands(commands)
    add_insights_commands(commands)

    args = parser.parse_args(argv)
    mask_personal_data_in_logs()
    os.chdir(PROJECT_ROOT)
    try:
        use_log_format(Settings.from_env().log_format,
                       "desk" if args.command == "desk" else "teranga")
        return args.handler(args)
    except (runtime.TrainingError, RuntimeError, TimeoutError, ValueError) as error:
        print(f"teranga {args.command}: {error}", file=sys.stderr)
        return 1


def _add_kb_commands(commands) -> None:
    kb = commands.add_parser(
        "kb", help="knowledge base: check, build, ask",
        description="Tools for the people who write the knowledge base (kb/<lang>/*.md).")
    kb_commands = kb.add_subparsers(dest="kb_command", required=True, metavar="KB_COMMAND")
    check = kb_commands.add_parser(
        "check", help="validate every article and list missing translations",
        description="Read every kb/<lang>/*.md, report each problem with its file and line, "
                    "list the articles missing in each language. Exits 1 when a file has a "
                    "problem (missing translations alone are not errors).")
    check.set_defaults(handler=_kb_check)
    build = kb_commands.add_parser(
        "build", help="build or update the search index (only changed files are embedded)",
        description="Embed new and changed articles and save the FAISS index. A broken file "
                    "is reported and its last good version stays in the index.")
    build.set_defaults(handler=_kb_build)
    ask = kb_commands.add_parser(
        "ask", help="show the top answers to a question, and what the assistant would say",
        description="Rank the articles for a question in a language, with their scores, and "
                    "show which article the assistant would use (or that it would not answer).")
    ask.add_argument("question")
    ask.add_argument("--lang", required=True, help="the customer's language, such as fr or wo")
    ask.add_argument("--top", type=int, default=3, help="answers to show (default: 3)")
    ask.set_defaults(handler=_kb_ask)
    draft = kb_commands.add_parser(
        "draft", help="turn a group of `teranga insights irritants` into a draft article",
        description="Write group N of `teranga insights irritants` (same filters) as a draft "
                    "article in kb/<lang>/drafts/: the customers' words, the agents' answer "
                    "as a starting point. The assistant does not read drafts; move the file "
                    "up to kb/<lang>/ to publish it.")
    draft.add_argument("--group", type=int, required=True, help="the group's number")
    add_filters(draft)
    draft.set_defaults(handler=draft_article_command)


def _add_agent_commands(commands) -> None:
    agents = commands.add_parser(
        "agents", help="manage contact-centre agents (languages, skills, passwords)",
        description="Agents live in TERANGA_AGENTS_FILE (default .teranga/agents.yml, kept "
                    "out of git); passwords are stored as scrypt hashes only.")
    agent_commands = agents.add_subparsers(dest="agents_command", required=True,
                                           metavar="AGENTS_COMMAND")
    add = agent_commands.add_parser("add", help="add an agent (asks for a password)")
    add.add_argument("id", help="login, such as awa")
    add.add_argument("--name", required=True, help="full name shown to colleagues")
    add.add_argument("--languages", required=True,
                     help="comma-separated language codes, such as wo,fr")
    add.add_argument("--skills", default="", help="comma-separated skills, such as sunucash")
    add.add_argument("--max", type=int, default=3, dest="max_conversations",
                     help="conversations at once (default: 3)")
    add.add_argument("--role", choices=("agent", "supervisor"), default="agent")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from standard input instead of prompting")
    add.set_defaults(handler=_agents_add)
    listing = agent_commands.add_parser("list", help="list the agents")
    listing.set_defaults(handler=_agents_list)
    remove = agent_commands.add_parser("remove", help="remove an agent")
    remove.add_argument("id")
    remove.set_defaults(handler=_agents_remove)
    unlock = agent_commands.add_parser(
        "unlock", help="let a locked-out agent try to log in again",
        description="Forget the failed logins of an id (after too many wrong passwords the "
                    "desk locks it for 15 minutes). Needs REDIS_URL, the desk's Redis.")
    unlock.add_argument("id")
    unlock.set_defaults(handler=_agents_unlock)
    password = agent_commands.add_parser("password", help="set an agent's password")
    password.add_argument("id")
    password.add_argument("--password-stdin", action="store_true")
    password.set_defaults(handler=_agents_password)


def _add_privacy_commands(commands) -> None:
    privacy = commands.add_parser(
        "privacy", help="a customer's data: export, erase; purge after the retention period",
        description="Serve a customer's rights of access and erasure, and the retention "
                    "period (docs/privacy.md). Needs REDIS_URL, the assistant's Redis.")
    privacy_commands = privacy.add_subparsers(dest="privacy_command", required=True,
                                              metavar="PRIVACY_COMMAND")
    customer_help = ("a conversation id, or a phone number in international form "
                     "(+221 77 123 45 67: its SMS and WhatsApp conversations)")
    export = privacy_commands.add_parser(
        "export", help="write everything held about a customer as JSON",
        description="Write one JSON document: the customer's conversations (tracker "
                    "events), the desk's records, notes and history, outboxes, transcripts, "
                    "delivery statuses and their entries in shared streams, each with the "
                    "Redis key it came from.")
    export.add_argument("customer", help=customer_help)
    export.add_argument("--out", help="write to this file (mode 600) instead of stdout")
    export.set_defaults(handler=_privacy_export)
    erase = privacy_commands.add_parser(
        "erase", help="remove a customer from every store, then prove it",
        description="Delete the customer's keys and their entries in shared streams, queues "
                    "and sets (keeping anonymous aggregates), then scan every key and value "
                    "for their ids and number. Exits 1 if anything still mentions them, 3 if "
                    "an agent holds their conversation (unless --force).")
    erase.add_argument("customer", help=customer_help)
    erase.add_argument("--force", action="store_true",
                       help="erase even a conversation an agent holds now (it vanishes "
                            "from the agent's desk)")
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    erase.set_defaults(handler=_privacy_erase)
    purge = privacy_commands.add_parser(
        "purge", help="erase customers silent for longer than the retention period",
        description="Erase every customer whose conversations' last events are older than "
                    "TERANGA_RETENTION_DAYS (0: keep forever); anonymous aggregates stay. "
                    "Run it daily from cron (docs/privacy.md).")
    purge.add_argument("--days", type=int, default=None,
                       help="the retention period (default: TERANGA_RETENTION_DAYS)")
    purge.set_defaults(handler=_privacy_purge)


def _privacy_export(args: argparse.Namespace) -> int:
    from teranga.customer_data.commands import run_export

    return run_export(args.customer, args.out)


def _privacy_erase(args: argparse.Namespace) -> int:
    from teranga.customer_data.commands import run_erase

    return run_erase(args.customer, args.force, args.yes)


def _privacy_purge(args: argparse.Namespace) -> int:
    from teranga.customer_data.commands import run_purge

    return run_purge(args.days)


def _add_tracker_commands(commands) -> None:
    trackers = commands.add_parser(
        "trackers", help="conversation histories in Redis (the tracker store)",
        description="Tools for the tracker store of addons/tracker_store.py.")
    tracker_commands = trackers.add_subparsers(dest="trackers_command", required=True,
                                               metavar="TRACKERS_COMMAND")
    migrate = tracker_commands.add_parser(
        "migrate", help="copy Rasa's Redis tracker store into Teranga's layout",
        description="Copy every conversation stored by Rasa's RedisTrackerStore (one JSON "
                    "value per conversation, keys <key_prefix>:tracker:<id>) into the "
                    "append-only layout that endpoints.yml now names. Safe to run twice: a "
                    "conversation already copied is left as it is. Prints the counts.")
    migrate.add_argument("--redis-url", default=Settings.from_env().redis_url,
                         help="the assistant's Redis (default: REDIS_URL)")
    migrate.add_argument("--key-prefix", default=redis_keys.PREFIX,
                         help="the tracker_store key_prefix of endpoints.yml "
                              "(default: %(default)s)")
    migrate.add_argument("--delete-old", action="store_true",
                         help="delete each old key once its events are in the new layout")
    migrate.set_defaults(handler=_trackers_migrate)


def _trackers_migrate(args: argparse.Namespace) -> int:
    import redis

    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")  # Rasa imports SQLAlchemy
    from teranga.dialogue.event_log import migrate_from_rasa, rasa_key_prefix

    if not args.redis_url:
        raise RuntimeError("REDIS_URL is not set: set it or pass --redis-url")
    client = sync_redis(args.redis_url, socket_timeout=30)
    try:
        report = migrate_from_rasa(client, args.key_prefix, delete_old=args.delete_old)
    except redis.RedisError as error:
        raise RuntimeError(f"Redis at {masked(args.redis_url)}: {error}") from error
    print(f"{report.found} conversation(s) in Rasa's layout "
          f"({rasa_key_prefix(args.key_prefix)}*): {report.migrated} copied "
          f"({report.events} events); {report.already} copied before ({report.differing} "
          f"of them no longer begin with the old events: old key kept); {report.deleted} "
          f"old key(s) deleted; {report.unreadable} key(s) not a tracker, left alone")
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    import getpass

    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def _codes(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _agents_add(args: argparse.Namespace) -> int:
    from teranga.handoff.agents import Agent, AgentDirectory, hash_password

    directory = AgentDirectory(Settings.from_env().agents_file)
    directory.add(Agent(args.id, args.name, _codes(args.languages), _codes(args.skills),
                        args.max_conversations, args.role,
                        hash_password(_read_password(args.password_stdin))))
    directory.save()
    print(f"Added {args.role} {args.id} ({args.languages}) to {directory.path}")
    return 0


def _agents_list(args: argparse.Namespace) -> int:
    from teranga.handoff.agents import AgentDirectory

    directory = AgentDirectory(Settings.from_env().agents_file)
    for agent in sorted(directory.agents.values(), key=lambda a: a.id):
        print(f"{agent.id:12} {agent.role:10} {agent.name:24} languages {','.join(agent.languages)}"
              f"  skills {','.join(agent.skills) or '-'}  max {agent.max_conversations}")
    print(f"{len(directory.agents)} agent(s) in {directory.path}")
    return 0


def _agents_remove(args: argparse.Namespace) -> int:
    from teranga.handoff.agents import AgentDirectory

    directory = AgentDirectory(Settings.from_env().agents_file)
    directory.remove(args.id)
    directory.save()
    print(f"Removed {args.id}")
    return 0


def _agents_unlock(args: argparse.Namespace) -> int:
    import asyncio

    from teranga.agent_desk.auth import Sessions

    redis_url = Settings.from_env().redis_url
    if not redis_url:
        raise RuntimeError("REDIS_URL is not set: set it to the desk's Redis")

    async def unlock() -> None:
        client = async_redis(redis_url, socket_timeout=5)
        try:
            await Sessions(client).unlock(args.id)
        finally:
            await client.close()

    asyncio.run(unlock())
    print(f"{args.id} may log in again")
    return 0


def _agents_password(args: argparse.Namespace) -> int:
    from teranga.handoff.agents import AgentDirectory, AgentError, hash_password

    directory = AgentDirectory(Settings.from_env().agents_file)
    if args.id not in directory.agents:
        raise AgentError(f"no agent {args.id!r}")
    directory.agents[args.id].password_hash = hash_password(_read_password(args.password_stdin))
    directory.save()
    print(f"Password of {args.id} changed")
    return 0


def _knowledge_base():
    from teranga.knowledge_base.service import KbSettings, KnowledgeBase

    return KnowledgeBase(KbSettings.from_env())


def _kb_check(args: argparse.Namespace) -> int:
    from teranga.knowledge_base.articles import read_catalogue
    from teranga.knowledge_base.service import KbSettings

    catalogue = read_catalogue(KbSettings.from_env().kb_dir)
    problems = list(catalogue.problems)
    try:
        languages.check()  # the fallback languages of untranslated articles
    except languages.LanguagesError as error:
        problems.append(str(error))
    for problem in problems:
        print(f"ERROR {problem}")
    for language, ids in catalogue.missing_translations().items():
        print(f"missing in {language} ({len(ids)}): {', '.join(ids)}")
    counts = ", ".join(f"{lang} {len(articles)}"
                       for lang, articles in sorted(catalogue.by_language().items()))
    print(f"{len(catalogue.articles)} articles ({counts}); {len(problems)} problem(s)")
    return 1 if problems else 0


def _kb_build(args: argparse.Namespace) -> int:
    knowledge_base = _knowledge_base()
    report = knowledge_base.build(progress=True)
    for problem in report.problems:
        print(f"ERROR {problem}")
    for path in report.kept_last_good:
        print(f"kept the last good version of {path}")
    print(f"{report.chunks} sections indexed with {knowledge_base.embedder.name}: "
          f"{len(report.embedded_files)} file(s) embedded, {len(report.reused_files)} unchanged; "
          f"index: {knowledge_base.index_dir}")
    return 1 if report.problems else 0


def _kb_ask(args: argparse.Namespace) -> int:
    knowledge_base = _knowledge_base()
    ranking = knowledge_base.rank(args.question, args.lang)
    print(f"Top answers in {args.lang} (confidence {ranking.confidence:.2f}):")
    for position, candidate in enumerate(ranking.candidates[: args.top], start=1):
        chunk = candidate.chunk
        print(f"  {position}. {chunk.article_id} - {chunk.title} / {chunk.heading or '(intro)'}"
              f"  score {candidate.score:.3f} (dense {candidate.dense:.3f}, "
              f"lexical {candidate.lexical:.2f})  {chunk.path}:{chunk.line}")
    answer = knowledge_base.answer(args.question, args.lang)
    threshold = knowledge_base.calibration.threshold
    if not answer.found:
        print(f"The assistant would not answer (best confidence {answer.confidence:.2f} < "
              f"{threshold:.2f}): a knowledge-base miss.")
        return 0
    chunk = answer.chunk
    origin = "" if answer.found_in == answer.answer_language else \
        f", found in {answer.found_in}"
    print(f"The assistant would answer with {chunk.article_id} ({chunk.title}), in "
          f"{answer.answer_language}{origin}, confidence {answer.confidence:.2f} >= "
          f"{threshold:.2f}:\n\n{chunk.text}")
    return 0


def _api_token(args: argparse.Namespace) -> int:
    token = api_token()
    if token is None:
        raise RuntimeError("no API secret yet: set TERANGA_API_TOKEN or run `teranga demo` once")
    print(auth_header(token)["Authorization"].removeprefix("Bearer "))
    return 0


def _train(args: argparse.Namespace) -> int:
    runtime.train(Settings.from_env().models_dir, force=args.force)
    return 0


def _demo(args: argparse.Namespace) -> int:
    # `kill` or a container stop must shut the servers down as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = Settings.from_env()
    languages.check()  # a mistake in languages.yml stops here, with its file and line
    model = runtime.train(settings.models_dir)
    _prepare_knowledge_base()
    if settings.redis_sentinels and not settings.redis_url:
        raise RuntimeError("REDIS_SENTINELS is set without REDIS_URL, which gives the "
                           "password and database: redis://:password@teranga/0")
    redis = nullcontext(settings.redis_url) if settings.redis_url else runtime.embedded_redis()
    with redis as redis_url:
        services = runtime.Services(settings, redis_url, PROJECT_ROOT / ".teranga" / "logs",
                                    host=args.host)
        try:
            services.start(model)
            print("Starting the action server and the Rasa server...", flush=True)
            services.wait_until_ready()
            _print_urls(settings, redis_url, services)
            while True:  # a server that crashes is restarted; Ctrl-C or SIGTERM stops all
                services.supervise()
                time.sleep(1)
        except KeyboardInterrupt:
            print("\nStopping...", flush=True)
            return 0
        finally:
            services.stop()


def _desk(args: argparse.Namespace) -> int:
    import dataclasses

    from teranga.agent_desk.app import build

    # The desk's own news (escalations recovered, pauses reconciled, stops) in its log;
    # Sanic's loggers have their own handlers.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.getLogger("teranga").addHandler(handler)
    logging.getLogger("teranga").setLevel(logging.INFO)
    settings = dataclasses.replace(Settings.from_env(), rasa_url_override=args.rasa_url)
    use_log_format(settings.log_format, "desk")  # the handler just added too
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not set: the desk shares Redis with the assistant")
    build(settings).run(host=args.host, port=args.port, access_log=False, motd=False)
    return 0


def _prepare_knowledge_base() -> None:
    """Embed new or changed articles now, with a progress bar, so that the action server
    starts on a ready index."""
    print("Indexing the knowledge base...", flush=True)
    report = _knowledge_base().build(progress=True)
    for problem in report.problems:
        print(f"  knowledge base file to fix: {problem}")
    print(f"Knowledge base ready: {report.chunks} sections "
          f"({len(report.embedded_files)} files embedded).", flush=True)


def _print_urls(settings: Settings, redis_url: str, services: runtime.Services) -> None:
    embedded = "" if settings.redis_url else " (embedded, in memory)"
    print(f"""
Teranga is running.
  web chat demo  {services.rasa_url}/webhooks/socketio/demo
  REST channel   POST {services.rasa_url}/webhooks/rest/webhook
                 {{"sender": "me", "message": "salut"}}
  HTTP API       {services.rasa_url}/conversations/<sender>/tracker
  action server  {settings.actions_url}/health
  agents' desk   {services.desk_url}/  {_agents_hint()}
  Redis          {describe(redis_url) if settings.redis_url else redis_url}{embedded}
  logs           {services.log_dir}/
Talk to it:      .venv/bin/teranga chat
Stop:            Ctrl-C
""", flush=True)


def _agents_hint() -> str:
    from teranga.handoff.agents import AgentDirectory

    if AgentDirectory(Settings.from_env().agents_file).agents:
        return ""
    return "(no agents yet: .venv/bin/teranga agents add awa --name Awa --languages fr,wo)"


def _chat(args: argparse.Namespace) -> int:
    from teranga.terminal_chat import chat

    return chat(args.url, args.sender or f"chat-{uuid.uuid4().hex[:8]}", args.quiet)


if __name__ == "__main__":
    sys.exit(main())
