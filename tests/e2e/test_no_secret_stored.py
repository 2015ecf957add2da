"""A PIN typed into a message is stored nowhere: sent through REST, Twilio SMS and WhatsApp,
Telegram and the web chat, each inside a message that also asks for a person (so that it
goes to the desk), it is then absent from every Redis key and value of the test database,
every log file of the run and the desk's payloads; and each customer was told, in their
language, never to share it."""

from __future__ import annotations

import random
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import redis

from tests.blocking import Ownership
from tests.e2e.desk_client import AgentSession, responses, say, settled, tracker, wait_until
from tests.e2e.test_telegram import chat, post
from tests.e2e.test_twilio import deliver, phone
from tests.e2e.test_webchat import Visit

pytestmark = pytest.mark.e2e


def new_pin() -> str:
    """Eight digits (the most a PIN-like code has): no timestamp or id in the store holds
    them by chance, as a four-digit PIN might."""
    return f"{random.randint(10**7, 10**8 - 1)}"


def spaced(pin: str) -> str:
    return " ".join(pin)


def joined(texts: list[str]) -> str:
    return " ".join(" ".join(texts).split())


def warning(language: str) -> str:
    return " ".join(responses(language)["utter_secret_removed"].split())


def everything_in(redis_url: str) -> list[tuple[str, bytes]]:
    """Every key of the database and every value it holds, whatever its type."""
    client = redis.Redis.from_url(redis_url)
    found: list[tuple[str, bytes]] = []
    for key in client.scan_iter(count=1000):
        name, kind = key.decode(errors="replace"), client.type(key).decode()
        found.append((name, key))
        if kind == "string":
            values = [client.get(key) or b""]
        elif kind == "hash":
            values = [b for pair in client.hgetall(key).items() for b in pair]
        elif kind == "list":
            values = client.lrange(key, 0, -1)
        elif kind == "set":
            values = list(client.smembers(key))
        elif kind == "zset":
            values = [member for member, _score in client.zrange(key, 0, -1, withscores=True)]
        elif kind == "stream":
            values = [part for entry_id, fields in client.xrange(key)
                      for part in (entry_id, *fields.keys(), *fields.values())]
        elif kind == "none":  # expired between the scan and the read (a flood counter)
            values = []
        else:
            raise AssertionError(f"{name} is a {kind}: the scan does not read it")
        found += [(name, value) for value in values]
    return found


def where(pins: dict[str, str], redis_url: str, log_dir: Path,
          desk_payloads: dict[str, str]) -> list[str]:
    """Every place any of the PINs (as typed, or its digits joined) is still found."""
    needles = {form for pin in pins.values() for form in (pin, spaced(pin))}
    places = [f"redis {name}" for name, value in everything_in(redis_url)
              if any(n.encode() in value for n in needles)]
    for path in sorted(p for p in log_dir.rglob("*") if p.is_file()):
        text = path.read_bytes()
        places += [f"log {path.name}" for n in needles if n.encode() in text]
    places += [f"desk {name}" for name, body in desk_payloads.items()
               if any(n in body for n in needles)]
    return places


def test_a_pin_sent_on_every_channel_is_stored_nowhere(server, fake_twilio, fake_telegram,
                                                       real_redis_url):
    pins = {channel: new_pin() for channel in
            ("rest", "twilio_sms", "twilio_whatsapp", "telegram", "webchat")}
    conversations: dict[str, str] = {}

    # REST, with the PIN's digits spaced as some customers type them
    conversations["rest"] = f"rest-{uuid.uuid4().hex[:12]}"
    replies = say(server.rasa_url, conversations["rest"],
                  f"i want to talk to a human agent, my pin is {spaced(pins['rest'])}")
    assert replies[-1] == responses("en")["utter_secret_removed"], replies
    assert len(replies) >= 2  # the hand-over's own reply came first

    # The rest of a message is answered as if the PIN had not been in it, then the warning
    pins["rest_transfer"] = new_pin()
    conversations["rest_transfer"] = f"rest-{uuid.uuid4().hex[:12]}"
    replies = say(server.rasa_url, conversations["rest_transfer"],
                  f"mon code secret c'est {pins['rest_transfer']} et mon transfert est bloqué "
                  "depuis hier")
    assert replies[-1] == responses("fr")["utter_secret_removed"], replies
    answered = tracker(server.rasa_url, conversations["rest_transfer"])
    assert answered["latest_message"]["intent"]["name"] == "transfer_failed"
    assert replies[0] == responses("fr")["utter_transfer_failed"] \
        or answered["slots"]["kb_article"] == "failed-transfer", replies

    # Twilio SMS and WhatsApp
    conversations["twilio_sms"] = phone()
    conversations["twilio_whatsapp"] = f"whatsapp:{phone()}"
    for channel in ("twilio_sms", "twilio_whatsapp"):
        reply = deliver(server, fake_twilio, channel, conversations[channel],
                        f"je veux parler a un conseiller humain svp. mon code secret c'est "
                        f"{pins[channel]}")
        assert reply.status_code == 200

    # Telegram
    chat_id = chat()
    conversations["telegram"] = f"telegram:{chat_id}"
    assert post(server, fake_telegram.update(
        chat_id, f"I want to talk to an agent please. OTP {pins['telegram']}")).ok

    # Web chat, with python-socketio's client as a widget speaks
    with Visit(server.rasa_url) as visit:
        session_id, _history = visit.new_session()
        conversations["webchat"] = session_id
        visit.emit("user_uttered", {
            "message": f"jveux parler a un conseiller humain, sama code mooy {pins['webchat']}",
            "session_id": session_id, "client_id": uuid.uuid4().hex})
        said = [visit.event("bot_uttered")["text"] for _ in range(2)]
    assert said[-1] == responses("fr")["utter_secret_removed"], said

    # Each customer was told (after the hand-over's reply), each conversation went to the desk
    wait_until(lambda: warning("fr") in joined(fake_twilio.to(conversations["twilio_sms"])))
    wait_until(lambda: warning("fr") in joined(fake_twilio.to(
        conversations["twilio_whatsapp"])))
    wait_until(lambda: warning("en") in joined(fake_telegram.to(chat_id)))
    client = redis.Redis.from_url(real_redis_url)
    escalated = {c: i for c, i in conversations.items() if c != "rest_transfer"}
    for conversation in escalated.values():
        wait_until(lambda c=conversation: settled(real_redis_url, c))
        wait_until(lambda c=conversation: Ownership(client).owner(c) == "queued")

    # What the desk shows and sends: the queue, each conversation and its context
    supervisor = AgentSession(server.desk_url, "sara")
    desk_payloads = {"queue": supervisor.get("/api/queue")}
    for channel, conversation in escalated.items():
        path = f"/api/conversations/{quote(conversation, safe='')}"
        desk_payloads[f"{channel} conversation"] = supervisor.get(path)
        desk_payloads[f"{channel} context"] = supervisor.get(f"{path}/context")
    assert all(reply.ok for reply in desk_payloads.values()), \
        {name: reply.status_code for name, reply in desk_payloads.items()}
    waiting = {line["conversation_id"] for line in desk_payloads["queue"].json()["waiting"]}
    assert set(escalated.values()) <= waiting
    transcript = desk_payloads["rest conversation"].json()["transcript"]
    assert "••••" in repr(transcript)  # the agent sees that something was removed

    assert where(pins, real_redis_url, server.log_dir,
                 {name: reply.text for name, reply in desk_payloads.items()}) == []


def test_a_pin_sent_alone_after_the_message_naming_it_is_stored_nowhere(
        server, fake_twilio, fake_telegram, real_redis_url):
    """"I forgot my PIN" then the PIN alone, on every channel: each message alone looks
    harmless, the second is the secret."""
    pins = {channel: new_pin() for channel in
            ("rest", "twilio_sms", "twilio_whatsapp", "telegram", "webchat")}

    rest = f"rest-{uuid.uuid4().hex[:12]}"
    say(server.rasa_url, rest, "I forgot my PIN, what do I do")
    assert say(server.rasa_url, rest, pins["rest"])[-1] == responses("en")["utter_secret_removed"]

    senders = {"twilio_sms": phone(), "twilio_whatsapp": f"whatsapp:{phone()}"}
    for channel, sender in senders.items():
        assert deliver(server, fake_twilio, channel, sender, "j'ai oublié mon code secret").ok
        assert deliver(server, fake_twilio, channel, sender, pins[channel]).ok
    chat_id = chat()
    assert post(server, fake_telegram.update(chat_id, "nimesahau PIN yangu")).ok
    assert post(server, fake_telegram.update(chat_id, spaced(pins["telegram"]))).ok

    with Visit(server.rasa_url) as visit:
        session_id, _history = visit.new_session()
        said = []
        for message in ("sama code secret dafa réer", pins["webchat"]):
            visit.emit("user_uttered", {"message": message, "session_id": session_id,
                                        "client_id": uuid.uuid4().hex})
            said.append(visit.event("bot_uttered", timeout=30)["text"])
        while warning("fr") not in joined(said) and warning("wo") not in joined(said):
            said.append(visit.event("bot_uttered", timeout=30)["text"])

    for sender in senders.values():
        wait_until(lambda s=sender: warning("fr") in joined(fake_twilio.to(s)))
    wait_until(lambda: warning("sw") in joined(fake_telegram.to(chat_id)))
    assert where(pins, real_redis_url, server.log_dir, {}) == []
