"""The worst messages a customer can send within the limits, and what another customer feels
meanwhile.

    .venv/bin/python bench/hostile.py [--seconds 30] [--attackers 1]

Part 1 sends each hostile message (the largest the REST channel accepts, TERANGA_MAX_MESSAGE_
CHARS characters) several times and reports its server time. Part 2 measures one ordinary
customer's latency (a message every 0.25 s, a new conversation every 10) on an idle server,
then while `--attackers` clients send the worst message back to back, each in one
conversation (whose tracker grows with every message), then with a new conversation for
every message, in the same run: the target is the ordinary customer's p95 within 1.5x of the
idle one. Uses a real Redis (REDIS_URL, default redis://127.0.0.1:6379/14).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from latency import MESSAGES, bench_services  # noqa: E402

from teranga import runtime  # noqa: E402
from teranga.settings import PROJECT_ROOT, Settings  # noqa: E402

TARGET_RATIO = 1.5
PACE_SECONDS = 0.25  # the ordinary customer's pace: many samples, still far from saturation
CONVERSATION_LENGTH = 10  # the ordinary customer starts a new conversation every 10 messages


def hostile_messages(limit: int) -> dict[str, str]:
    """Messages built to cost the most: expansion under NFKC, emoji runs (VADER and the
    embedder), one endless word, many short words (n-grams and lexicon passes), random
    Unicode, stacked combining marks."""
    rng = random.Random(11)
    words = "transfert xaalis kudi pesa bundle merci waaw bayil sunucash".split()
    return {
        "U+FDFA (x18 under NFKC)": "\ufdfa" * limit,
        "emoji": "😡" * limit,
        "mixed emoji": "".join(rng.choice("😡😭🙏👍🔥💔") for _ in range(limit)),
        "one long word": "a" * limit,
        "short words": " ".join(rng.choice(words) for _ in range(limit // 8))[:limit],
        "random Unicode": "".join(chr(rng.choice([rng.randint(0x20, 0x2FFF),
                                                  rng.randint(0x1F300, 0x1FAFF)]))
                                  for _ in range(limit)),
        "combining marks": ("a" + "\u0301" * 9) * (limit // 10),
        "ordinary sentence": "bonjour je voudrais envoyer de l'argent a ma mere au mali",
    }


async def timed_post(session: aiohttp.ClientSession, url: str, sender: str, text: str,
                     accepted: tuple[int, ...] = (200,)) -> float:
    started = time.perf_counter()
    async with session.post(url, json={"sender": sender, "message": text}) as reply:
        await reply.read()
        if reply.status not in accepted:
            raise RuntimeError(f"{reply.status} for a {len(text)}-character message")
    return time.perf_counter() - started


async def message_costs(url: str, messages: dict[str, str], repeats: int) -> dict[str, list]:
    async with aiohttp.ClientSession() as session:
        costs = {}
        for name, text in messages.items():
            sender = f"hostile-{uuid.uuid4().hex[:8]}"
            costs[name] = [await timed_post(session, url, sender, text) for _ in range(repeats)]
        return costs


async def ordinary_customer(url: str, seconds: float, attack: str | None, attackers: int,
                            new_conversations: bool = False) -> tuple[list[float], list[float]]:
    """An ordinary customer's latencies over `seconds`, and the attackers': `attackers`
    clients sending `attack` back to back meanwhile (none if `attack` is None), each in one
    conversation, or in a new conversation for every message."""
    stop = asyncio.Event()
    attacks: list[float] = []

    async def attacker(session: aiohttp.ClientSession) -> None:
        sender = f"attacker-{uuid.uuid4().hex[:8]}"
        while not stop.is_set():
            if new_conversations:
                sender = f"attacker-{uuid.uuid4().hex[:8]}"
            # the flood guard's 429 costs it nothing: the attacker just goes on
            attacks.append(await timed_post(session, url, sender, attack, (200, 429)))

    async with aiohttp.ClientSession() as session:
        tasks = [asyncio.create_task(attacker(session)) for _ in range(attackers if attack
                                                                       else 0)]
        latencies: list[float] = []
        deadline = time.monotonic() + seconds
        index = 0
        while time.monotonic() < deadline:
            if index % CONVERSATION_LENGTH == 0:  # ordinary conversations are short
                sender = f"customer-{uuid.uuid4().hex[:8]}"
            text = MESSAGES["teranga"][index % len(MESSAGES["teranga"])]
            latencies.append(await timed_post(session, url, sender, text))
            index += 1
            await asyncio.sleep(PACE_SECONDS)
        stop.set()
        await asyncio.gather(*tasks)
    return latencies, attacks


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--attackers", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--flood-guard", action="store_true",
                        help="keep the per-conversation flood guard on (off by default, so "
                             "that the worst message is measured, not the guard)")
    args = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
    os.chdir(PROJECT_ROOT)
    model = runtime.train(Settings.from_env().models_dir)
    services = bench_services(model, redis_url, flood_guard=args.flood_guard)
    limit = services.settings.max_message_chars
    try:
        services.start(model)
        services.wait_until_ready()
        url = f"{services.rasa_url}/webhooks/rest/webhook"
        asyncio.run(message_costs(url, {"warm-up": "bonjour"}, 3))
        costs = asyncio.run(message_costs(url, hostile_messages(limit), args.repeats))
        print(f"Hostile messages of up to {limit} characters, {args.repeats} sends each "
              "(server time through REST):\n")
        print("| message | characters | p50 ms | max ms |")
        print("|---|---|---|---|")
        for name, times in costs.items():
            print(f"| {name} | {len(hostile_messages(limit)[name])} | "
                  f"{statistics.median(times) * 1000:.0f} | {max(times) * 1000:.0f} |")
        worst = max(costs, key=lambda name: statistics.median(costs[name]))
        attack = hostile_messages(limit)[worst]
        idle, _ = asyncio.run(ordinary_customer(url, args.seconds, None, 0))
        print(f"\nAn ordinary customer (a message every {PACE_SECONDS} s for "
              f"{args.seconds:.0f} s) on an idle server, then while {args.attackers} "
              f"client(s) send '{worst}' back to back:\n")
        print("| server | customer's messages | p50 ms | p95 ms | p99 ms | attacker's "
              "messages | attacker's p50 ms | p95 / idle p95 |")
        print("|---|---|---|---|---|---|---|---|")
        print(f"| idle | {len(idle)} | {statistics.median(idle) * 1000:.0f} | "
              f"{percentile(idle, 0.95) * 1000:.0f} | {percentile(idle, 0.99) * 1000:.0f} "
              "| - | - | 1.00 |")
        for label, fresh in (("attacked, one conversation", False),
                             ("attacked, a new conversation per message", True)):
            seen, attacks = asyncio.run(ordinary_customer(url, args.seconds, attack,
                                                          args.attackers, fresh))
            ratio = percentile(seen, 0.95) / percentile(idle, 0.95)
            print(f"| {label} | {len(seen)} | {statistics.median(seen) * 1000:.0f} | "
                  f"{percentile(seen, 0.95) * 1000:.0f} | {percentile(seen, 0.99) * 1000:.0f} "
                  f"| {len(attacks)} | {statistics.median(attacks) * 1000:.0f} | "
                  f"{ratio:.2f} |")
        print(f"\nTarget: the ordinary customer's p95 within {TARGET_RATIO}x of the idle one.")
        print("Reproduce: .venv/bin/python bench/hostile.py "
              f"--seconds {args.seconds:.0f} --attackers {args.attackers}")
    finally:
        services.stop()


if __name__ == "__main__":
    main()
