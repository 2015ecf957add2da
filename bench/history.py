"""Per-message latency through the REST channel for a returning customer, by the size of the
history already stored: Teranga's tracker store against Rasa's own RedisTrackerStore, same
model, same run.

    .venv/bin/python bench/history.py [--messages 40] [--levels 0 1000 5000 20000]

Two Rasa servers share one action server, lock store, event broker and Redis (REDIS_URL,
default redis://127.0.0.1:6379/14); they differ only in endpoints.yml's tracker_store. For
each level, each server gets a conversation whose prior events are written straight through
its own store: past sessions three days apart, each a copy of a real first session (a
greeting and its answer). The first message starts a new session, as a returning customer's
does, and is not measured; the next `--messages` are, one to every conversation in turn.
Redis memory is `MEMORY USAGE` of the conversation's keys after the run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import redis
import redis.asyncio
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from latency import MESSAGES, bench_services  # noqa: E402
from rasa.core.tracker_store import TrackerStore  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.core.trackers import DialogueStateTracker  # noqa: E402
from rasa.utils.endpoints import read_endpoint_config  # noqa: E402

from teranga import runtime  # noqa: E402
from teranga.dialogue.domain import build_domain  # noqa: E402
from teranga.dialogue.event_log import rasa_key_prefix, tracker_keys  # noqa: E402
from teranga.http_api import api_token, auth_header  # noqa: E402
from teranga.languages import default_language  # noqa: E402
from teranga.settings import PROJECT_ROOT, Settings, rasa_environment  # noqa: E402

STORES = ("teranga", "rasa")
DAYS_APART = 3 * 86_400
TARGET = 1.2  # p50 after 20,000 prior events, against a fresh conversation


def rasa_store_endpoints(target: Path) -> Path:
    """endpoints.yml with Rasa's RedisTrackerStore instead of Teranga's, all else equal."""
    endpoints = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text())
    endpoints["tracker_store"]["type"] = "redis"
    target.write_text(yaml.safe_dump(endpoints, sort_keys=False))
    return target


def start_second_rasa(services: runtime.Services, model: Path, endpoints: Path) -> str:
    """A second Rasa server started as Services starts the first, with other endpoints."""
    port = runtime.free_port()
    command, env = services.commands["rasa"]
    command = [*command]
    command[command.index("--endpoints") + 1] = str(endpoints)
    command[command.index("--port") + 1] = str(port)
    services._spawn("rasa-redis-store", command, env)
    return f"http://127.0.0.1:{port}"


async def send(session: aiohttp.ClientSession, url: str, sender: str, text: str) -> float:
    started = time.perf_counter()
    async with session.post(f"{url}/webhooks/rest/webhook",
                            json={"sender": sender, "message": text}) as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status} for {sender}")
    return time.perf_counter() - started


async def first_session(url: str) -> tuple[list[dict], str]:
    """A real conversation's first session, the template of every past session; and its
    conversation id."""
    sender = f"history-template-{uuid.uuid4().hex[:8]}"
    async with aiohttp.ClientSession() as session:
        await send(session, url, sender, MESSAGES["teranga"][0])
        async with session.get(f"{url}/conversations/{sender}/tracker",
                               headers=auth_header(api_token())) as response:
            return (await response.json())["events"], sender


def past_sessions(template: list[dict], count: int) -> list[dict]:
    """`count` copies of the template, three days apart, the last ending three days ago."""
    origin, now = template[0]["timestamp"], time.time()
    events = []
    for index in range(count):
        shift = now - (count - index) * DAYS_APART - origin
        events += [{**event, "timestamp": event["timestamp"] + shift} for event in template]
    return events


def seed(stores: dict[str, TrackerStore], domain: Domain, template: list[dict],
         level: int) -> tuple[dict[str, str], int]:
    """A conversation per store with about `level` prior events (whole sessions), saved
    through the store; the senders and the number of events."""
    events = past_sessions(template, -(-level // len(template)))
    senders = {}
    for name, store in stores.items():
        senders[name] = f"history-{name}-{level}-{uuid.uuid4().hex[:8]}"
        if events:
            tracker = DialogueStateTracker.from_dict(senders[name], events, domain.slots)
            asyncio.run(store.save(tracker))
    return senders, len(events)


def memory(client: redis.Redis, name: str, sender: str) -> int:
    keys = tracker_keys("teranga", sender) if name == "teranga" else \
        [rasa_key_prefix("teranga") + sender]
    return sum(client.memory_usage(key, samples=0) or 0 for key in keys)


def forget(client: redis.Redis, senders: list[str]) -> None:
    for sender in senders:
        client.delete(*tracker_keys("teranga", sender), rasa_key_prefix("teranga") + sender)


async def measure(conversations: dict[tuple, tuple[str, str]], messages: int):
    """Each conversation's first message (a new session), then `messages` rounds of one
    message to every conversation in turn, so that whatever else the machine does weighs
    on all of them alike. The latencies of the rounds, by conversation."""
    latencies: dict[tuple, list[float]] = {key: [] for key in conversations}
    texts = MESSAGES["teranga"]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as session:
        for url, sender in conversations.values():
            await send(session, url, sender, texts[0])
        for index in range(messages):
            for key, (url, sender) in conversations.items():
                text = texts[(index + 1) % len(texts)]
                latencies[key].append(await send(session, url, sender, text))
    return latencies


def summary(latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    return (statistics.median(ordered) * 1000,
            ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000)


def round_trips(redis_url: str, session: list[dict], repeats: int = 300) -> dict[str, float]:
    """One message's Redis commands in Teranga's store (read the current session, then
    append eight events in a watched MULTI), with redis-py's sync client, which blocks the
    event loop throughout, and with its asyncio client: microseconds per message."""
    key = f"history-rtt-{uuid.uuid4().hex[:8]}"
    events, start = f"{key}:events", f"{key}:session"
    session = [json.dumps(event) for event in session]
    sync, aio = redis.Redis.from_url(redis_url), redis.asyncio.Redis.from_url(redis_url)
    sync.rpush(events, *session)
    sync.set(start, 0)

    def one_sync():
        sync.get(start)
        sync.pipeline().get(start).lrange(events, 0, -1).execute()
        with sync.pipeline() as pipe:
            pipe.watch(events, start)
            pipe.llen(events), pipe.get(start)
            pipe.multi()
            pipe.rpush(events, *session[:8]).ltrim(events, 0, len(session) - 1).set(start, 0)
            pipe.execute()

    async def one_async():
        await aio.get(start)
        await aio.pipeline().get(start).lrange(events, 0, -1).execute()
        async with aio.pipeline() as pipe:
            await pipe.watch(events, start)
            await pipe.llen(events), await pipe.get(start)
            pipe.multi()
            pipe.rpush(events, *session[:8]).ltrim(events, 0, len(session) - 1).set(start, 0)
            await pipe.execute()

    async def run_async():
        for _ in range(repeats):
            await one_async()
        await aio.close()

    started = time.perf_counter()
    for _ in range(repeats):
        one_sync()
    timings = {"sync": time.perf_counter() - started}
    started = time.perf_counter()
    asyncio.run(run_async())
    timings["asyncio"] = time.perf_counter() - started
    sync.delete(events, start)
    return {name: seconds / repeats * 1e6 for name, seconds in timings.items()}


def start_servers(services: runtime.Services, model: Path, rasa_endpoints: Path) -> dict:
    services.start(model)
    urls = {"teranga": services.rasa_url,
            "rasa": start_second_rasa(services, model, rasa_endpoints)}
    services.wait_until_ready()
    deadline = time.monotonic() + 300
    while not runtime.answers(f"{urls['rasa']}/status"):  # the API needs a JWT
        if time.monotonic() > deadline:
            raise TimeoutError(f"{urls['rasa']} did not start")
        time.sleep(0.5)
    return urls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=40, help="measured, per conversation")
    parser.add_argument("--levels", type=int, nargs="+", default=[0, 1000, 5000, 20000])
    args = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
    os.chdir(PROJECT_ROOT)
    model = runtime.train(Settings.from_env().models_dir)
    services = bench_services(model, redis_url)
    services.log_dir.mkdir(parents=True, exist_ok=True)
    os.environ.update(rasa_environment(redis_url, services.settings.actions_url))
    endpoints = {"teranga": PROJECT_ROOT / "endpoints.yml",
                 "rasa": rasa_store_endpoints(services.log_dir / "endpoints-rasa-store.yml")}
    domain = Domain.from_dict(build_domain(PROJECT_ROOT / "domain",
                                           default_language(PROJECT_ROOT)))
    stores = {name: TrackerStore.create(read_endpoint_config(str(path), "tracker_store"),
                                        domain) for name, path in endpoints.items()}
    client = redis.Redis.from_url(redis_url)
    conversations, prior, used = {}, {}, []
    try:
        urls = start_servers(services, model, endpoints["rasa"])
        warm_up = {name: (url, f"history-warm-up-{uuid.uuid4().hex[:8]}")
                   for name, url in urls.items()}
        used += [sender for _, sender in warm_up.values()]
        asyncio.run(measure(warm_up, 5))
        template, template_sender = asyncio.run(first_session(urls["teranga"]))
        used.append(template_sender)
        for level in args.levels:
            senders, prior[level] = seed(stores, domain, template, level)
            used += senders.values()
            conversations.update({(level, name): (urls[name], senders[name])
                                  for name in STORES})
        latencies = asyncio.run(measure(conversations, args.messages))
        rows = [(level, prior[level], name, *summary(latencies[(level, name)]),
                 memory(client, name, conversations[(level, name)][1]))
                for level in args.levels for name in STORES]
    finally:
        services.stop()
        forget(client, used)
    report(rows, args, len(template))
    rtt = round_trips(redis_url, template * 4)
    print(f"\nOne message's Redis commands in Teranga's store (a session of "
          f"{len(template) * 4} events): sync client {rtt['sync']:.0f} us, the event loop "
          f"blocked throughout; asyncio client {rtt['asyncio']:.0f} us")


def report(rows: list[tuple], args: argparse.Namespace, session_events: int) -> None:
    print(f"\n{args.messages} messages per row; past sessions of {session_events} events, "
          f"{DAYS_APART // 86_400} days apart\n")
    print("| prior events | store | p50 ms | p95 ms | p50 / fresh | Redis memory KiB |")
    print("|---|---|---|---|---|---|")
    fresh = {name: p50 for level, _, name, p50, _, _ in rows if level == 0}
    for _, prior, name, p50, p95, used in rows:
        ratio = f"{p50 / fresh[name]:.2f}" if name in fresh else "-"
        print(f"| {prior:,} | {name} | {p50:.1f} | {p95:.1f} | {ratio} | {used / 1024:.1f} |")
    levels = " ".join(str(level) for level in args.levels)
    print(f"\nCommand: .venv/bin/python bench/history.py --messages {args.messages} "
          f"--levels {levels}")
    if "teranga" not in fresh or max(args.levels) == 0:
        return
    _, prior, _, p50, _, _ = max(row for row in rows if row[2] == "teranga")
    verdict = "PASS" if p50 <= TARGET * fresh["teranga"] else "FAIL"
    print(f"Teranga's store, p50 after {prior:,} prior events / fresh: "
          f"{p50 / fresh['teranga']:.2f} (target <= {TARGET}): {verdict}")


if __name__ == "__main__":
    main()
