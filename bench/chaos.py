"""Faults while customers write: is anything lost or done twice?

    .venv/bin/python bench/chaos.py [--seconds 120] [--conversations 3] [--short]

Two Rasa processes (behind a client-side round-robin, as a load balancer would spread
webhooks), one action server and the desk, on a Redis server of the benchmark's own
(AOF, `appendfsync always`, in a temporary folder, on a free port). Customers write over
Twilio (SMS and WhatsApp), Telegram, the web chat and REST, each conversation one message
every `--interval` seconds, while the run injects, in turn: kill -9 of a Rasa process,
kill -9 of the action server, kill -9 and restart of Redis, the Twilio and Telegram
stand-ins answering 500 and 429, web-chat sockets dropped, kill -9 of the other Rasa
process. Killed servers are restarted by the same supervisor `teranga demo` uses.

A provider retries a webhook that was not answered 200 (Telegram does; Twilio does with
its connection overrides, see docs/reliability.md), here every 0.5 s; a web-chat message
is resent until the server acknowledges it; a REST client retries a failed request.
Afterwards every conversation's tracker (Rasa's HTTP API) is compared with what each
customer sent and with what the stand-ins received: accepted messages missing from the
tracker are lost, present twice are duplicated, out of order are misordered; the bot's
replies in the tracker, formatted as each channel sends them, are compared with what the
stand-ins (or the web-chat sockets) received. `--short` is the version `make test` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import redis
import requests
import socketio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from latency import bench_services  # noqa: E402

from teranga import runtime  # noqa: E402
from teranga.channels.outbound import Option, numbered, split_for_sms, split_long  # noqa: E402
from teranga.channels.twilio_api import TWILIO_BODY_LIMIT  # noqa: E402
from teranga.channels.widget import intake_message_id  # noqa: E402
from teranga.http_api import TOKEN_VARIABLE, api_token, auth_header  # noqa: E402
from teranga.redis_connections import sync_redis  # noqa: E402
from teranga.settings import Settings  # noqa: E402
from tests.fakes.telegram import FakeTelegram  # noqa: E402
from tests.fakes.twilio import FakeTwilio  # noqa: E402

TEXTS = ["bonjour", "quel est mon solde", "comment recharger mon crédit", "merci",
         "j'ai perdu ma puce", "how do i check my balance", "au revoir"]
PUBLIC_URL = "https://bot.example.com"
TELEGRAM_SECRET = uuid.uuid4().hex
CHANNELS = ("twilio_sms", "twilio_whatsapp", "telegram", "socketio", "rest")


class RedisServer:
    """A Redis server of the benchmark's own, appending every write to its AOF."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="teranga-chaos-redis-"))
        self.port = runtime.free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
             str(self.folder), "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                if client.ping():
                    return
            except redis.RedisError:
                time.sleep(0.1)
        raise RuntimeError("the benchmark's Redis did not start")

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def close(self) -> None:
        if self.process and self.process.poll() is None:
            self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class Sent:
    channel: str
    conversation: str
    message_id: str
    text: str
    first_sent_at: float | None = None
    accepted_at: float | None = None
    attempts: int = 0
    client_id: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass
class Run:
    urls: list[str]
    twilio: FakeTwilio
    telegram: FakeTelegram
    sent: list[Sent] = field(default_factory=list)
    faults: list[tuple[float, str]] = field(default_factory=list)
    rest_replies: dict[str, list[tuple[float, list[str]]]] = field(
        default_factory=lambda: defaultdict(list))
    started: float = field(default_factory=time.monotonic)
    started_at: float = field(default_factory=time.time)
    doubles: list[str] = field(default_factory=list)  # each reply received twice, and when
    misses: list[str] = field(default_factory=list)  # each reply never received, and when stored
    web: list[WebCustomer] = field(default_factory=list)
    sockets_back_at: float = 0.0  # web-chat sockets are dropped until then
    _next_url: itertools.cycle = None

    def url(self) -> str:
        if self._next_url is None:
            self._next_url = itertools.cycle(self.urls)
        return next(self._next_url)

    def fault(self, what: str) -> None:
        self.faults.append((time.monotonic() - self.started, what))
        print(f"  {time.monotonic() - self.started:6.1f} s  {what}", flush=True)


class WebCustomer:
    """A web-chat visitor with python-socketio's client, doing what the project's widget
    does: each message with a client id, sent again until acknowledged; when the socket
    drops, reconnect after 0.5-1 s (widget.js) and ask for what was missed (`after` the last
    transcript id)."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.client: socketio.Client | None = None
        self.session_id: str | None = None
        self.last_id: str | None = None
        self.received: dict[str, tuple[float, str]] = {}  # transcript id -> (at, text)
        self._confirmed = threading.Event()
        self._lock = threading.Lock()
        self._connecting = threading.Lock()
        self.finished = False

    def _receive(self, message: dict) -> None:
        with self._lock:
            if message.get("from") == "customer" or message["id"] in self.received:
                return
            self.received[message["id"]] = (time.time(), message.get("text") or "")
            if self.last_id is None or _stream_id(message["id"]) > _stream_id(self.last_id):
                self.last_id = message["id"]

    def _confirm(self, session_id) -> None:
        self.session_id = session_id if isinstance(session_id, str) else \
            session_id["session_id"]
        self._confirmed.set()

    def _dropped(self, *_reason) -> None:
        if not self.finished:
            threading.Thread(target=self._reconnect, daemon=True).start()

    def _reconnect(self) -> None:
        time.sleep(max(0.5 + random.random() / 2, self.run.sockets_back_at - time.monotonic()))
        while not self.finished and not (self.client and self.client.connected):
            if self.connect():
                return
            time.sleep(1)

    def connect(self) -> bool:
        with self._connecting:
            if self.client and self.client.connected:
                return True
            return self._connect()

    def _connect(self) -> bool:
        client = socketio.Client(reconnection=False)
        client.on("session_confirm", self._confirm)
        client.on("bot_uttered", self._receive)
        client.on("transcript", lambda data: [self._receive(m) for m in data["messages"]])
        client.on("disconnect", self._dropped)
        self._confirmed.clear()
        try:
            client.connect(self.run.url(), transports=["websocket"],
                           socketio_path="/socket.io", wait_timeout=5)
            client.emit("session_request", {"session_id": self.session_id,
                                            "after": self.last_id})
            if self._confirmed.wait(5):
                self.client = client
                return True
        except (socketio.exceptions.ConnectionError, ValueError):
            pass
        self._close(client)
        return False

    def drop(self) -> None:
        if self.client:
            self._close(self.client)

    @staticmethod
    def _close(client: socketio.Client) -> None:
        try:
            client.disconnect()
        except Exception:  # already gone
            pass

    def send(self, message: Sent) -> None:
        deadline = time.monotonic() + 180
        message.first_sent_at = time.time()
        while time.monotonic() < deadline:
            if time.monotonic() < self.run.sockets_back_at or \
                    not (self.client and self.client.connected):
                time.sleep(max(0.2, self.run.sockets_back_at - time.monotonic()))
                self.connect()
                continue
            message.attempts += 1
            message.conversation = self.session_id
            message.message_id = intake_message_id(self.session_id, message.client_id)
            ack = self._ask(message)
            if ack is None:  # no answer: send it again, on a new socket if this one dropped
                continue
            if ack and ack.get("status") == "sent":
                message.accepted_at = time.time()
                return
            time.sleep(float((ack or {}).get("after") or 1))


    def _ask(self, message: Sent) -> dict | None:
        """The server's ack, or None: as widget.js, a message is sent again once the socket
        is back when it drops while waiting (not after the 10 s allowed an open socket)."""
        answered, answers = threading.Event(), []
        client = self.client
        try:
            client.emit("user_uttered", {"message": message.text, "session_id": self.session_id,
                                         "client_id": message.client_id},
                        callback=lambda *ack: (answers.extend(ack), answered.set()))
        except socketio.exceptions.SocketIOError:
            return None
        deadline = time.monotonic() + 10
        while not answered.wait(0.1):
            if not client.connected or time.monotonic() > deadline:
                self._close(client)
                return None
        return answers[0] if answers else {}


def _stream_id(entry_id: str) -> tuple[int, int]:
    milliseconds, _, sequence = entry_id.partition("-")
    return int(milliseconds), int(sequence or 0)


async def post_until_accepted(run: Run, session: aiohttp.ClientSession, message: Sent,
                              request) -> None:
    """What a provider does: deliver again until answered 200 (give up after 3 minutes)."""
    deadline = time.monotonic() + 180
    message.first_sent_at = time.time()
    while time.monotonic() < deadline:
        message.attempts += 1
        try:
            async with request(session, run.url()) as reply:
                body = await reply.read()
                if reply.status == 200:
                    message.accepted_at = time.time()
                    if message.channel == "rest":
                        run.rest_replies[message.conversation].append(
                            (message.accepted_at, [m.get("text") for m in json.loads(body)]))
                    return
        except (aiohttp.ClientError, asyncio.TimeoutError):
            pass
        await asyncio.sleep(0.5)


def twilio_request(run: Run, message: Sent):
    params = {"MessageSid": message.message_id, "AccountSid": run.twilio.account_sid,
              "From": message.conversation, "To": "+15550001111", "Body": message.text,
              "NumMedia": "0"}
    signature = run.twilio.sign(f"{PUBLIC_URL}/webhooks/{message.channel}/webhook", params)
    return lambda session, url: session.post(
        f"{url}/webhooks/{message.channel}/webhook", data=params,
        headers={"X-Twilio-Signature": signature})


def telegram_request(run: Run, message: Sent):
    chat_id = int(message.conversation.removeprefix("telegram:"))
    update = run.telegram.update(chat_id, message.text, update_id=int(message.message_id))
    return lambda session, url: session.post(
        f"{url}/webhooks/telegram/webhook", json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})


def rest_request(message: Sent):
    """A REST client's message with its own id: sent again after a failure, it is answered
    without a second turn (connectors/rest.py)."""
    return lambda session, url: session.post(
        f"{url}/webhooks/rest/webhook",
        json={"sender": message.conversation, "message": message.text,
              "message_id": message.message_id})


def message_id_of(user_event: dict) -> str:
    """The id a channel gave the message, as the tracker keeps it."""
    return str(((user_event.get("metadata") or {}).get("teranga") or {}).get("intake_id"))


def conversation_ids(conversations: int) -> dict[str, list[str]]:
    def phone() -> str:
        return f"+2217{uuid.uuid4().int % 10**8:08d}"
    return {"twilio_sms": [phone() for _ in range(conversations)],
            "twilio_whatsapp": [f"whatsapp:{phone()}" for _ in range(conversations)],
            "telegram": [f"telegram:{uuid.uuid4().int % 10**9}" for _ in range(conversations)],
            "rest": [f"chaos-{uuid.uuid4().hex[:12]}" for _ in range(conversations)]}


def web_customer(run: Run, count: int, interval: float) -> None:
    visitor = WebCustomer(run)
    run.web.append(visitor)
    while not visitor.connect():
        time.sleep(0.5)
    for number in range(count):
        message = Sent("socketio", visitor.session_id, "", TEXTS[number % len(TEXTS)])
        run.sent.append(message)
        started = time.monotonic()
        visitor.send(message)
        time.sleep(max(0.0, interval - (time.monotonic() - started)))
    visitor.finished = True
    visitor.drop()


async def customer(run: Run, channel: str, conversation: str, count: int,
                   interval: float) -> None:
    ids = itertools.count(uuid.uuid4().int % 10**9)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for number in range(count):
            text = TEXTS[number % len(TEXTS)]
            message = Sent(channel, conversation, "SM" + uuid.uuid4().hex
                           if channel.startswith("twilio") else str(next(ids)), text)
            run.sent.append(message)
            request = twilio_request(run, message) if channel.startswith("twilio") else \
                telegram_request(run, message) if channel == "telegram" else \
                rest_request(message)
            started = time.monotonic()
            await post_until_accepted(run, session, message, request)
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))


async def customers(run: Run, conversations: int, count: int, interval: float) -> None:
    """`conversations` customers on each channel, each sending `count` messages."""
    ids = conversation_ids(conversations)
    await asyncio.gather(
        *(customer(run, channel, conversation, count, interval)
          for channel, conversation_list in ids.items() for conversation in conversation_list),
        *(asyncio.to_thread(web_customer, run, count, interval) for _ in range(conversations)))


def inject_faults(run: Run, services, redis_server: RedisServer, seconds: float,
                  stop: threading.Event) -> None:
    plan = [(0.12, "kill -9 Rasa process 1", lambda: _kill(services, "rasa")),
            (0.28, "kill -9 the action server", lambda: _kill(services, "actions")),
            (0.42, "kill -9 Redis, restart it at once", lambda: _restart(redis_server)),
            (0.56, "Twilio answers 500 and Telegram 429 for 8 s",
             lambda: (run.twilio.outage(500, 8), run.telegram.outage(429, 8))),
            (0.64, "every web-chat socket dropped for 4 s", lambda: _drop_sockets(run, 4)),
            (0.72, "kill -9 Rasa process 2", lambda: _kill(services, "rasa-2"))]
    for at, what, act in plan:
        if stop.wait(max(0.0, run.started + at * seconds - time.monotonic())):
            return
        run.fault(what)
        act()


def _drop_sockets(run: Run, seconds: float) -> None:
    run.sockets_back_at = time.monotonic() + seconds
    for visitor in run.web:
        visitor.drop()


def _kill(services, name: str) -> None:
    services.processes[name].send_signal(signal.SIGKILL)


def _restart(redis_server: RedisServer) -> None:
    redis_server.kill()
    redis_server.start()


def supervise(services, stop: threading.Event) -> None:
    """`teranga demo`'s supervisor: restart what died, with its back-off. Its thread lives
    until the end: a child started from a thread is stopped when that thread ends
    (runtime's parent-death signal)."""
    while not stop.wait(0.5):
        services.supervise()


def expected_parts(channel: str, bot_event: dict) -> list[str]:
    """A bot message as the channel's sender cuts it (teranga/channels/twilio_api.py,
    telegram.py)."""
    data = bot_event.get("data") or {}
    text = bot_event.get("text") or ""
    choices = data.get("buttons") or data.get("quick_replies") or []
    if channel.startswith("twilio"):
        if choices:
            text = numbered(text, [Option(c.get("title", ""), c.get("payload", ""))
                                   for c in choices])
        return split_for_sms(text) if channel == "twilio_sms" else \
            split_long(text, TWILIO_BODY_LIMIT)
    # One message per paragraph: the web chat's bubbles (connectors/webchat.py) and Rasa's
    # own collecting channel behind REST (OutputChannel.send_text_message).
    if channel in ("socketio", "rest"):
        return text.strip().split("\n\n") if text.strip() else []
    return split_long(text) + ([data["image"]] if data.get("image") else [])


def delivered(run: Run, channel: str, conversation: str) -> list[tuple[float, str]]:
    if channel.startswith("twilio"):
        return [(m["at"], m["Body"]) for m in run.twilio.sent if m["To"] == conversation]
    if channel == "telegram":
        chat_id = int(conversation.removeprefix("telegram:"))
        return [(m["at"], m["text"]) for m in run.telegram.sent if int(m["chat_id"]) == chat_id]
    if channel == "socketio":
        return [received for visitor in run.web if visitor.session_id == conversation
                for received in visitor.received.values()]
    return [(at, text) for at, texts in run.rest_replies[conversation] for text in texts
            if text]


def print_reply_mishaps(run: Run) -> None:
    for double in run.doubles:
        print(f"- reply sent twice on {double}")
    for miss in run.misses:
        print(f"- reply never received on {miss}")


def check(run: Run, rasa_url: str) -> dict[str, Counter]:
    """Per channel: accepted, processed, lost, duplicated, misordered, replies expected,
    delivered, replies lost, replies duplicated; and the longest wait for a reply."""
    figures: dict[str, Counter] = defaultdict(Counter)
    longest: dict[str, float] = defaultdict(float)
    by_conversation: dict[tuple[str, str], list[Sent]] = defaultdict(list)
    for message in run.sent:
        by_conversation[(message.channel, message.conversation)].append(message)
    token = api_token()
    for (channel, conversation), messages in by_conversation.items():
        figure = figures[channel]
        accepted = [m for m in messages if m.accepted_at]
        figure["sent"] += len(messages)
        figure["accepted"] += len(accepted)
        events = _tracker(rasa_url, conversation, token)
        users = [e for e in events if e["event"] == "user"]
        figure["processed"] += len(users)
        said = [message_id_of(e) for e in users]
        expected = [m.message_id for m in accepted]
        counts = Counter(said)
        figure["lost"] += sum(1 for m in expected if counts[m] == 0)
        figure["duplicated"] += sum(n - 1 for n in counts.values() if n > 1)
        order = [m for m in dict.fromkeys(said) if m in expected]
        figure["misordered"] += int(order != [m for m in expected if m in counts])
        parts = [(index, part) for index, event in enumerate(events)
                 if event["event"] == "bot" for part in expected_parts(channel, event)]
        got = delivered(run, channel, conversation)
        figure["replies expected"] += len(parts)
        figure["replies delivered"] += len(got)
        wanted, received = Counter(p for _, p in parts), Counter(text for _, text in got)
        figure["replies lost"] += sum((wanted - received).values())
        figure["replies duplicated"] += sum((received - wanted).values())
        for text in received - wanted:
            times = ", ".join(f"{at - run.started_at:.1f} s" for at, t in got if t == text)
            run.doubles.append(f"{channel}: {text[:40]!r} received at {times}")
        for text in wanted - received:
            stored = ", ".join(f"{event['timestamp'] - run.started_at:.1f} s"
                               for index, part in parts if part == text
                               for event in [events[index]])
            got_at = ", ".join(f"{at - run.started_at:.1f} s" for at, t in got if t == text)
            run.misses.append(f"{channel} {conversation[:12]}: {text[:40]!r} stored at "
                              f"{stored}; received at {got_at or 'no time'}")
        longest[channel] = max(longest[channel], _longest_wait(accepted, got))
    for channel, seconds in longest.items():
        figures[channel]["longest wait (s)"] = round(seconds, 1)
    return figures


def _tracker(rasa_url: str, conversation: str, token: str) -> list[dict]:
    reply = requests.get(f"{rasa_url}/conversations/{conversation}/tracker",
                         headers=auth_header(token), timeout=30)
    reply.raise_for_status()
    return reply.json()["events"]


def _longest_wait(accepted: list[Sent],
                  got: list[tuple[float, str]]) -> float:
    """The longest a customer waited, from first sending a message (retries included) to
    the next reply received after it was accepted."""
    longest = 0.0
    times = sorted(at for at, _ in got)
    for message in accepted:
        later = [at for at in times if at >= message.accepted_at]
        if later:
            longest = max(longest, later[0] - message.first_sent_at)
    return longest


def print_table(figures: dict[str, Counter], faults: list[tuple[float, str]]) -> None:
    columns = ["sent", "accepted", "processed", "lost", "duplicated", "misordered",
               "replies expected", "replies delivered", "replies lost",
               "replies duplicated", "longest wait (s)"]
    print("\nFaults injected:")
    for at, what in faults:
        print(f"- at {at:.0f} s: {what}")
    print("\n| channel | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    total = Counter()
    for channel in CHANNELS:
        if channel in figures:
            print(f"| {channel} | " + " | ".join(str(figures[channel][c]) for c in columns)
                  + " |")
            total.update({c: figures[channel][c] for c in columns if "wait" not in c})
    print("| all | " + " | ".join(str(total[c]) if "wait" not in c else
                                  str(max(f[c] for f in figures.values())) for c in columns)
          + " |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--conversations", type=int, default=3, help="per channel")
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--short", action="store_true", help="40 s, 2 conversations")
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    if args.short:
        args.seconds, args.conversations = 40, 2
    redis_server = RedisServer()
    redis_server.start()
    twilio = FakeTwilio("AC" + uuid.uuid4().hex, uuid.uuid4().hex)
    telegram = FakeTelegram(f"{uuid.uuid4().int % 10**9}:{uuid.uuid4().hex}")
    twilio.start()
    telegram.start()
    os.environ.update({
        "TERANGA_PUBLIC_URL": PUBLIC_URL, "TWILIO_API_URL": twilio.url,
        "TWILIO_ACCOUNT_SID": twilio.account_sid, "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_SMS_FROM": "+15550001111", "TWILIO_WHATSAPP_FROM": "whatsapp:+15550002222",
        "TELEGRAM_BOT_TOKEN": telegram.token, "TELEGRAM_API_URL": telegram.url,
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET, TOKEN_VARIABLE: uuid.uuid4().hex})
    model = args.model or runtime.train(Settings.from_env().models_dir)
    services = bench_services(model, redis_server.url)
    stop, done = threading.Event(), threading.Event()
    try:
        services.start(model)
        second_port = runtime.free_port()
        services.start_rasa("rasa-2", model, second_port)
        services.wait_until_ready(timeout=300)
        urls = [services.rasa_url, f"http://127.0.0.1:{second_port}"]
        while not runtime.answers(f"{urls[1]}/status"):
            time.sleep(0.5)
        twilio.callbacks = (PUBLIC_URL, services.rasa_url)
        run = Run(urls, twilio, telegram)
        count = max(1, int(args.seconds / args.interval))
        print(f"{args.conversations} conversation(s) per channel, {count} messages each, "
              f"one every {args.interval:.1f} s, for about {args.seconds:.0f} s:", flush=True)
        threading.Thread(target=supervise, args=(services, done), daemon=True).start()
        threading.Thread(target=inject_faults, args=(run, services, redis_server,
                                                     args.seconds, stop), daemon=True).start()

        asyncio.run(customers(run, args.conversations, count, args.interval))
        stop.set()
        _drain(redis_server.url, urls)
        figures = check(run, services.rasa_url)
    finally:
        stop.set()
        services.stop()
        done.set()
        redis_server.close()
    print_table(figures, run.faults)
    print_reply_mishaps(run)
    total = sum((f for f in figures.values()), Counter())
    failed = total["lost"] + total["duplicated"] + total["misordered"] + \
        total["replies lost"] + total["replies duplicated"]
    print(f"\nTarget: 0 lost, 0 duplicate bot turns: {'PASS' if failed == 0 else 'FAIL'}")
    print(f"Reproduce: .venv/bin/python bench/chaos.py --seconds {args.seconds:.0f} "
          f"--conversations {args.conversations} --interval {args.interval}")
    return 0 if failed == 0 else 1


def _drain(redis_url: str, urls: list[str], timeout: float = 120) -> None:
    """Wait for the servers to be back and the queues to empty. The benchmark's own
    environment says whether Redis is reached through sentinels (bench/cluster.py)."""
    client = sync_redis(redis_url, socket_timeout=2)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            busy = sum(client.xlen(f"teranga:{name}") for name in ("intake", "delivery"))
        except redis.RedisError:
            busy = 1
        if busy == 0 and all(runtime.answers(f"{url}/status") for url in urls):
            time.sleep(2)  # the last sends' status records
            return
        time.sleep(0.5)
    print("The queues did not empty in time", flush=True)


if __name__ == "__main__":
    sys.exit(main())
