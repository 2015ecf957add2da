"""Handoff latency under load: from a customer's triggering message to the escalation showing
in an agent's open desk, and from an agent's reply to its delivery to the customer.

    .venv/bin/python bench/handoff.py [--conversations 50] [--agents 10]

Runs the Rasa server, the action server and the desk on Redis (REDIS_URL, default
redis://127.0.0.1:6379/14, which it empties), logs agents in with open websockets, and has
every customer greet the bot, ask for a person, and exchange with the agent (three replies by
default; the customer's messages in between reach the agent's desk while the bot is paused;
the agent's replies reach the customer on the REST outbox, by long polling), then be closed.
The 50 conversations are open at the same time; like people, customers start over `--ramp`
seconds and take a few seconds to type, and agents a moment to answer. `--burst` drops every
pause (all 50 messages in the same instant), a stress test of the single Rasa process rather
than a contact centre's load. The baseline, measured in the same run under the same load, is
the bot's own reply to the greeting. Target: p95 under 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import redis
import websockets
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from latency import bench_services  # noqa: E402

from teranga import runtime  # noqa: E402
from teranga.handoff.agents import Agent, AgentDirectory, hash_password  # noqa: E402
from teranga.settings import PROJECT_ROOT, Settings  # noqa: E402

PASSWORD = "benchmark password"
LANGUAGES = ("fr", "en", "wo", "sw", "ha")
GREETING = {"fr": "bonjour", "en": "hello", "wo": "salaam aleekum", "sw": "habari",
            "ha": "sannu"}
FOLLOW_UP = {"fr": "d'accord, j'attends", "en": "ok, I'm waiting", "wo": "waaw, maa ngi xaar",
             "sw": "sawa, nasubiri", "ha": "to, ina jira"}
ASK = {"fr": "je veux parler a un conseiller", "en": "i want to talk to an agent",
       "wo": "dama beugue wax ak ab conseiller", "sw": "nataka kuongea na mhudumu",
       "ha": "ina son magana da ma'aikaci"}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


class Desks:
    """Agents' open desks: when each conversation and each customer message showed up."""

    def __init__(self) -> None:
        self.shown: dict[str, float] = {}
        self.assigned: dict[str, asyncio.Future] = {}
        self.messages: dict[tuple[str, str], asyncio.Future] = {}

    def _future(self, table: dict, key) -> asyncio.Future:
        return table.setdefault(key, asyncio.get_running_loop().create_future())

    def expect(self, conversation_id: str) -> asyncio.Future:
        return self._future(self.assigned, conversation_id)

    def expect_message(self, conversation_id: str, text: str) -> asyncio.Future:
        return self._future(self.messages, (conversation_id, text))

    async def listen(self, ws) -> None:
        async for raw in ws:
            now = time.perf_counter()
            news = json.loads(raw)
            conversation_id = news.get("conversation_id")
            if news.get("type") == "notice" and news["kind"] in ("queued", "assigned"):
                self.shown.setdefault(conversation_id, now)
            if news.get("kind") == "assigned":
                _settle(self.expect(conversation_id), news["owner"].split(":", 1)[1])
            if news.get("type") == "message" and news.get("event") == "user":
                _settle(self.expect_message(conversation_id, news["text"]), now)


def _settle(future: asyncio.Future, value) -> None:
    if not future.done():
        future.set_result(value)


async def log_in(http: aiohttp.ClientSession, desk_url: str, agent_id: str) -> str:
    """The agent's session cookie, from the desk's login form (posted from its own page: the
    desk refuses a login without its own Origin)."""
    async with http.post(f"{desk_url}/login", data={"agent": agent_id, "password": PASSWORD},
                         headers={"Origin": desk_url}, allow_redirects=False) as reply:
        assert reply.status == 302, await reply.text()
        return reply.cookies["teranga_desk"].value


@dataclass(frozen=True)
class Pacing:
    ramp: float  # customers start over this many seconds
    typing: tuple[float, float]  # a customer's pause between messages
    answering: tuple[float, float]  # an agent's pause before replying
    exchanges: int  # agent replies per conversation

    async def pause(self, span: tuple[float, float]) -> None:
        await asyncio.sleep(random.uniform(*span))


async def customer(index: int, rasa_url: str, desk_url: str, cookies: dict[str, str],
                   desks: Desks, figures: dict[str, list[float]], pacing: Pacing) -> None:
    language = LANGUAGES[index % len(LANGUAGES)]
    sender = f"bench-{uuid.uuid4().hex[:10]}"
    webhook = f"{rasa_url}/webhooks/rest/webhook"
    await pacing.pause((0, pacing.ramp))
    async with aiohttp.ClientSession() as http:
        async def say(text: str) -> list:
            async with http.post(webhook, json={"sender": sender, "message": text}) as reply:
                return await reply.json()

        start = time.perf_counter()
        await say(GREETING[language])
        figures["bot reply (baseline)"].append(time.perf_counter() - start)
        await pacing.pause(pacing.typing)

        assigned = desks.expect(sender)
        start = time.perf_counter()
        await say(ASK[language])
        figures["bot reply to the request for a person"].append(time.perf_counter() - start)
        agent_id = await asyncio.wait_for(assigned, 60)
        figures["customer's message to desk: escalation"].append(desks.shown[sender] - start)
        agent = {"Cookie": f"teranga_desk={cookies[agent_id]}", "Origin": desk_url}
        last = "0"
        for exchange in range(pacing.exchanges):
            if exchange:  # the customer writes again; the bot is paused, the agent reads it
                await pacing.pause(pacing.typing)
                text = f"{FOLLOW_UP[language]} ({exchange})"
                seen = desks.expect_message(sender, text)
                start = time.perf_counter()
                assert await say(text) == []
                figures["customer's message to desk: while the agent holds it"].append(
                    await asyncio.wait_for(seen, 60) - start)
            poll = asyncio.create_task(_collect(http, rasa_url, sender, last))
            await pacing.pause(pacing.answering)
            start = time.perf_counter()
            async with http.post(f"{desk_url}/api/conversations/{sender}/reply",
                                 headers=agent, json={"text": f"Answer {exchange}"}) as reply:
                assert reply.status == 200, await reply.text()
            last = await poll
            figures["agent's reply to customer"].append(time.perf_counter() - start)
        async with http.post(f"{desk_url}/api/conversations/{sender}/close", headers=agent,
                             json={}) as reply:
            assert reply.status == 200


async def _collect(http: aiohttp.ClientSession, rasa_url: str, sender: str,
                   after: str) -> str:
    """The customer's long poll; the id of the message that arrived."""
    while True:
        async with http.get(f"{rasa_url}/webhooks/rest/outbox",
                            params={"sender": sender, "after": after, "wait": "20"}) as reply:
            messages = (await reply.json())["messages"]
            if messages:
                return messages[-1]["id"]


async def run(services: runtime.Services, agents: list[Agent], conversations: int,
              pacing: Pacing) -> dict[str, list[float]]:
    desks = Desks()
    figures: dict[str, list[float]] = {
        "bot reply (baseline)": [], "bot reply to the request for a person": [],
        "customer's message to desk: escalation": [],
        "customer's message to desk: while the agent holds it": [],
        "agent's reply to customer": []}
    async with aiohttp.ClientSession() as http:
        cookies = {a.id: await log_in(http, services.desk_url, a.id) for a in agents}
    ws_url = services.desk_url.replace("http://", "ws://") + "/ws"
    sockets = [await websockets.connect(ws_url, extra_headers={
        "Cookie": f"teranga_desk={cookies[a.id]}", "Origin": services.desk_url})
        for a in agents]
    listeners = [asyncio.create_task(desks.listen(ws)) for ws in sockets]
    await asyncio.sleep(1)  # every agent counted present
    try:
        await asyncio.gather(*(customer(i, services.rasa_url, services.desk_url, cookies,
                                        desks, figures, pacing) for i in range(conversations)))
    finally:
        for task in listeners:
            task.cancel()
        for ws in sockets:
            await ws.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--ramp", type=float, default=10.0,
                        help="seconds over which the customers start (default: %(default)s)")
    parser.add_argument("--exchanges", type=int, default=3,
                        help="agent replies per conversation (default: %(default)s)")
    parser.add_argument("--burst", action="store_true",
                        help="no pauses at all: every message in the same instant")
    args = parser.parse_args()
    pacing = (Pacing(0, (0, 0), (0, 0), args.exchanges) if args.burst
              else Pacing(args.ramp, (3, 6), (2, 4), args.exchanges))
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
    os.chdir(PROJECT_ROOT)
    redis.Redis.from_url(redis_url).flushdb()

    work = Path(tempfile.mkdtemp(prefix="bench-handoff-"))
    directory = AgentDirectory(work / "agents.yml")
    capacity = -(-args.conversations // args.agents)  # everyone gets an agent at once
    agents = [Agent(f"agent{i}", f"Agent {i}", list(LANGUAGES), max_conversations=capacity,
                    password_hash=hash_password(PASSWORD)) for i in range(args.agents)]
    for agent in agents:
        directory.add(agent)
    directory.save()
    desk_settings = yaml.safe_load((PROJECT_ROOT / "desk" / "settings.yml").read_text())
    desk_settings["opening_hours"] = {day: "00:00-24:00" for day in desk_settings["opening_hours"]}
    (work / "settings.yml").write_text(yaml.safe_dump(desk_settings))
    os.environ.update({"TERANGA_AGENTS_FILE": str(work / "agents.yml"),
                       "TERANGA_DESK_SETTINGS": str(work / "settings.yml")})

    model = runtime.train(Settings.from_env().models_dir)
    services = bench_services(model, redis_url)
    try:
        services.start(model)
        services.wait_until_ready()
        figures = asyncio.run(run(services, agents, args.conversations, pacing))
    finally:
        services.stop()
    mode = "burst: no pauses" if args.burst else (
        f"customers start over {args.ramp:.0f} s and type for 3-6 s, agents answer in 2-4 s, "
        f"{args.exchanges} agent replies each")
    print(f"\n{args.conversations} concurrent conversations, {args.agents} agents with open "
          f"desks, {mode} (os.cpu_count()={os.cpu_count()})\n")
    print("| measure | n | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|")
    for name, values in figures.items():
        ms = [v * 1000 for v in values]
        print(f"| {name} | {len(ms)} | {statistics.median(ms):.0f} | "
              f"{percentile(ms, 0.95):.0f} | {max(ms):.0f} |")
    for name in list(figures)[2:]:
        p95 = percentile(figures[name], 0.95) * 1000
        print(f"{name}: p95 {p95:.0f} ms, target < 300 ms: {'met' if p95 < 300 else 'NOT met'}")


if __name__ == "__main__":
    main()
