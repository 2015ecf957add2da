"""What the end-to-end tests do as customers and as agents, and what the bot says."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlsplit

import redis
import requests
import websockets
import yaml

from teranga.http_api import api_token, auth_header

PASSWORD = "correct horse battery"
# One request per language that an intent covers, for the channels' tests.
SAMPLE_MESSAGES = {"fr": "jai perdu ma puce hier soir, que dois je faire",
                   "en": "how can i check my airtime balance pls",
                   "wo": "dama beugue yonne xaalis sama yaay",
                   "sw": "nataka kununua bundle ya internet ya wiki",
                   "ha": "ina son in tura kudi zuwa ga kanina"}


def responses(language: str) -> dict[str, str]:
    """Each response's (first) text in this language."""
    data = yaml.safe_load(Path(f"domain/responses/{language}.yml").read_text("utf-8"))
    return {name: variations[0]["text"] for name, variations in data["responses"].items()}


def all_texts(language: str) -> set[str]:
    """Every text the bot can say in this language."""
    data = yaml.safe_load(Path(f"domain/responses/{language}.yml").read_text("utf-8"))
    return {v["text"] for variations in data["responses"].values() for v in variations}


def said_in(language: str, text: str) -> bool:
    """A whole bot message is in this language: one of its responses, or a knowledge-base
    answer worded in it (its "From our article ..." opening)."""
    opening = responses(language)["utter_kb_answer"].split("{title}")[0]
    flat = " ".join(text.split())
    return flat in {" ".join(t.split()) for t in all_texts(language)} \
        or flat.startswith(" ".join(opening.split()))


def say(rasa_url: str, sender: str, message: str) -> list[str]:
    """A customer's message through the REST channel; the bot's immediate replies."""
    reply = requests.post(f"{rasa_url}/webhooks/rest/webhook",
                          json={"sender": sender, "message": message}, timeout=30)
    reply.raise_for_status()
    return [item.get("text") for item in reply.json()]


def collect(rasa_url: str, sender: str, after: str = "0", wait: float = 5) -> list[dict]:
    """Messages that reached the customer later (agents', the bot's on hand-back)."""
    reply = requests.get(f"{rasa_url}/webhooks/rest/outbox",
                         params={"sender": sender, "after": after, "wait": wait}, timeout=30)
    reply.raise_for_status()
    return reply.json()["messages"]


def collect_until(rasa_url: str, sender: str, done: Callable[[list[dict]], bool],
                  after: str = "0", timeout: float = 20) -> list[dict]:
    """Messages that reached the customer later, read until `done(messages)` (the desk's
    notices, "Awa has joined", come in between the agent's messages)."""
    messages: list[dict] = []
    deadline = time.monotonic() + timeout
    while not done(messages):
        if time.monotonic() > deadline:
            raise AssertionError(f"the customer got only {[m.get('text') for m in messages]}")
        messages += collect(rasa_url, sender, after=messages[-1]["id"] if messages else after,
                            wait=1)
    return messages


def from_agents(messages: list[dict]) -> list[dict]:
    """The messages an agent wrote (the desk's notices carry no agent)."""
    return [m for m in messages if m.get("agent")]


def tracker(rasa_url: str, sender: str) -> dict:
    """A conversation's tracker, read through the HTTP API as the desk does (with a JWT)."""
    reply = requests.get(f"{rasa_url}/conversations/{sender}/tracker",
                         headers=auth_header(api_token()), timeout=10)
    reply.raise_for_status()
    return reply.json()


def origin(url: str) -> str:
    """The Origin a browser sends from a page at `url`: scheme, host and port only."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class AgentSession:
    """An agent logged in to the desk, as their browser would be."""

    def __init__(self, desk_url: str, agent_id: str, password: str = PASSWORD) -> None:
        self.url = desk_url
        self.origin = origin(desk_url)
        self.http = requests.Session()
        # The desk refuses posts and websockets without its own Origin (or Referer), as a
        # browser on its pages sends; the session sends it with every request.
        self.http.headers["Origin"] = self.origin
        reply = self.http.post(f"{desk_url}/login", data={"agent": agent_id,
                                                          "password": password},
                               allow_redirects=False, timeout=10)
        assert reply.status_code == 302, reply.text
        self.cookie = f"teranga_desk={self.http.cookies['teranga_desk']}"

    def get(self, path: str) -> requests.Response:
        return self.http.get(f"{self.url}{path}", timeout=30)

    def post(self, path: str, body: dict | None = None) -> requests.Response:
        return self.http.post(f"{self.url}{path}", json=body or {}, timeout=30)

    def act(self, conversation_id: str, action: str, **body) -> requests.Response:
        return self.post(f"/api/conversations/{quote(conversation_id, safe='')}/{action}",
                         body)

    def websocket(self):
        ws_url = self.url.replace("http://", "ws://") + "/ws"
        return websockets.connect(ws_url, extra_headers={"Cookie": self.cookie,
                                                         "Origin": self.origin})


async def next_news(ws, matches: Callable[[dict], bool], timeout: float = 10) -> dict:
    """The first message on the desk's websocket that `matches`."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the desk did not send the expected news")
        news = json.loads(await asyncio.wait_for(ws.recv(), remaining))
        if matches(news):
            return news


def settled(redis_url: str, conversation_id: str) -> bool:
    """Whether the pipeline has finished with everything queued for this conversation: each
    message taken into the intake queue had its turn, and each reply went out (or was given
    up). A queue's `done` counter reaches its `seq` only once its last entry is completed
    (teranga/channels/ordered_queue.py); the intake's completion queues the replies in the
    same step, so the intake is read first."""
    client = redis.Redis.from_url(redis_url)
    for queue in ("intake", "delivery"):
        counters = client.hgetall(f"teranga:{queue}:conversation:{conversation_id}")
        if int(counters.get(b"done", 0)) < int(counters.get(b"seq", 0)):
            return False
    return True


def wait_until(condition: Callable[[], object], timeout: float = 15, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(step)


def send_as_bot(rasa_url: str, conversation_id: str, event: dict) -> None:
    """A bot message sent through the customer's channel with Rasa's HTTP API."""
    reply = requests.post(f"{rasa_url}/conversations/{conversation_id}/tracker/events",
                          params={"execute_side_effects": "true", "output_channel": "socketio"},
                          json=[{"event": "bot", **event}], headers=auth_header(api_token()),
                          timeout=30)
    assert reply.ok, reply.text
