"""Two Rasa server processes sharing one Redis (tracker store, lock store) behind a
round-robin, against one process, in the same run; then every conversation's tracker is
read back to check that its messages were processed in order, with none lost.

    .venv/bin/python bench/scale.py [--conversations 40] [--messages 10]

One action server and the desk serve both Rasa processes, as in a deployment that adds
Rasa processes to absorb load. The round-robin is the client's: each request goes to the
next server in turn, so consecutive messages of one conversation land on different
processes and only the shared Redis keeps them in order. Redis db 14 (REDIS_URL).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from latency import MESSAGES, bench_services, wait_ready  # noqa: E402

from teranga import runtime  # noqa: E402
from teranga.http_api import api_token, auth_header  # noqa: E402
from teranga.settings import PROJECT_ROOT, Settings  # noqa: E402


async def run_load(urls: list[str], conversations: int, messages: int):
    """Each conversation sends its messages one after another (a customer waits for the
    answer); requests go to the servers in turn. Returns senders, latencies, elapsed."""
    servers = itertools.cycle(urls)
    senders = [f"scale-{uuid.uuid4().hex[:10]}" for _ in range(conversations)]
    latencies: list[float] = []
    failures: list[str] = []

    async def conversation(session: aiohttp.ClientSession, sender: str) -> None:
        for index in range(messages):
            text = f"{MESSAGES['teranga'][index % len(MESSAGES['teranga'])]} {index}"
            started = time.perf_counter()
            async with session.post(f"{next(servers)}/webhooks/rest/webhook",
                                    json={"sender": sender, "message": text}) as response:
                await response.read()
                if response.status != 200:
                    failures.append(f"{sender} #{index}: HTTP {response.status}")
            latencies.append(time.perf_counter() - started)

    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*(conversation(session, sender) for sender in senders))
        elapsed = time.perf_counter() - started
    return senders, latencies, elapsed, failures


async def check_order(url: str, senders: list[str], messages: int) -> list[str]:
    """Every sent message in the tracker, in the order sent, each answered before the next."""
    problems = []
    async with aiohttp.ClientSession() as session:
        for sender in senders:
            async with session.get(f"{url}/conversations/{sender}/tracker",
                                   headers=auth_header(api_token())) as response:
                events = (await response.json())["events"]
            user_texts = [e["text"] for e in events if e["event"] == "user"]
            indexes = [int(text.rsplit(" ", 1)[-1]) for text in user_texts]
            if indexes != list(range(messages)):
                problems.append(f"{sender}: user messages {indexes}")
            if unanswered := _unanswered(events):
                problems.append(f"{sender}: {unanswered} message(s) without a bot answer")
    return problems


def _unanswered(events: list[dict]) -> int:
    count, waiting = 0, False
    for event in events:
        if event["event"] == "user":
            count += waiting
            waiting = True
        elif event["event"] == "bot":
            waiting = False
    return count + waiting


def summary(latencies: list[float], elapsed: float) -> tuple[float, float, float]:
    latencies = sorted(latencies)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    return statistics.median(latencies) * 1000, p95 * 1000, len(latencies) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--messages", type=int, default=10, help="per conversation")
    args = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
    os.chdir(PROJECT_ROOT)
    model = runtime.train(Settings.from_env().models_dir)
    services = bench_services(model, redis_url)
    second_port = runtime.free_port()
    urls = [services.rasa_url, f"http://127.0.0.1:{second_port}"]
    try:
        services.start(model)
        services.start_rasa("rasa-2", model, second_port)
        services.wait_until_ready()
        asyncio.run(wait_ready(f"{urls[1]}/status"))
        for url in urls:  # warm-up: each process's first message loads lazily-built parts
            asyncio.run(run_load([url], 2, 3))
        rows = {}
        for name, targets in (("1 process", urls[:1]), ("2 processes", urls)):
            senders, latencies, elapsed, failures = asyncio.run(
                run_load(targets, args.conversations, args.messages))
            problems = failures + asyncio.run(check_order(urls[0], senders, args.messages))
            rows[name] = (*summary(latencies, elapsed), len(latencies), problems)
        print(f"\n{args.conversations} conversations at once, {args.messages} messages each\n")
        print("| Rasa processes | messages | p50 ms | p95 ms | messages/s | out of order or lost |")
        print("|---|---|---|---|---|---|")
        for name, (p50, p95, rate, count, problems) in rows.items():
            print(f"| {name} | {count} | {p50:.1f} | {p95:.1f} | {rate:.1f} | {len(problems)} |")
        ratio = rows["2 processes"][2] / rows["1 process"][2]
        print(f"\nthroughput, 2 processes / 1: {ratio:.2f}")
        for name, row in rows.items():
            for problem in row[4][:10]:
                print(f"{name}: {problem}")
    finally:
        services.stop()


if __name__ == "__main__":
    main()
