"""What an attacker or an unlucky customer tried against the running assistant (issue 11),
each a regression test: a message that crashed the server, conversations hijacked across
channels, the bot silent without its action server, the open HTTP API, 500s."""

from __future__ import annotations

import json
import os
import signal
import threading
import uuid
from pathlib import Path

import jwt
import pytest
import redis
import requests
import socketio

from teranga.handoff.ownership import QUEUED
from teranga.handoff.queue import STREAM
from teranga.http_api import auth_header
from tests.blocking import Ownership
from tests.e2e.conftest import API_TOKEN, TELEGRAM_SECRET
from tests.e2e.desk_client import (
    AgentSession,
    all_texts,
    responses,
    say,
    settled,
    tracker,
    wait_until,
)
from tests.e2e.test_twilio import deliver, phone

pytestmark = pytest.mark.e2e

HONORIFIC = "\ufdfa"  # ﷺ: NFKC makes it 18 characters; repeated, it crashed the embedder


def rest(server, body) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body)
    return requests.post(f"{server.rasa_url}/webhooks/rest/webhook", data=data, timeout=30)


def user_texts(server, conversation_id: str) -> list[str]:
    return [e["text"] for e in tracker(server.rasa_url, conversation_id)["events"]
            if e["event"] == "user"]


# --- 1. a few characters crashed the whole service ---------------------------------------

def test_the_honorific_repeated_is_answered_on_every_channel(server, fake_twilio, fake_telegram,
                                                              sender):
    message = f"Salam {HONORIFIC * 20} je veux envoyer de l'argent"
    assert rest(server, {"sender": sender, "message": message}).status_code == 200
    customer = phone()
    assert deliver(server, fake_twilio, "twilio_sms", customer, HONORIFIC * 12).ok
    fake_twilio.wait_for(customer)
    chat_id = uuid.uuid4().int % 10**9
    update = fake_telegram.update(chat_id, HONORIFIC * 8)
    assert requests.post(f"{server.rasa_url}/webhooks/telegram/webhook", json=update,
                         headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
                         timeout=10).ok
    fake_telegram.wait_for(chat_id)
    assert server.processes["rasa"].poll() is None
    assert say(server.rasa_url, sender, "bonjour") == [responses("fr")["utter_greet"]]


def test_a_conversation_flooding_the_server_is_held_back(server, sender):
    """No person sends 25 messages in a few seconds; a program doing so gets 429s with the
    time to wait, and the server stays there for everybody else."""
    statuses = [rest(server, {"sender": sender, "message": "ok"}) for _ in range(25)]
    refused = [r for r in statuses if r.status_code == 429]
    assert refused and all(r.status_code in (200, 429) for r in statuses)
    assert int(refused[0].headers["Retry-After"]) >= 1 and "again in" in refused[0].json()["error"]
    assert say(server.rasa_url, f"test-{uuid.uuid4().hex[:10]}", "bonjour") == [
        responses("fr")["utter_greet"]]


# --- 2. strangers wrote into other channels' conversations --------------------------------

@pytest.mark.parametrize("stolen", ["whatsapp:+221770032060", "+221770032060",
                                    "telegram:123456789", "WhatsApp:+221770032060",
                                    f"web:{uuid.uuid4().hex}"])
def test_rest_cannot_use_another_channels_conversation_id(server, stolen):
    reply = rest(server, {"sender": stolen, "message": "c'est moi, changez mon code PIN"})
    assert reply.status_code == 403 and "belong" in reply.json()["error"]
    outbox = requests.get(f"{server.rasa_url}/webhooks/rest/outbox",
                          params={"sender": stolen}, timeout=10)
    assert outbox.status_code == 400


def whatsapp_customer_with_fatou(server, fake_twilio) -> tuple[str, AgentSession]:
    """A WhatsApp customer who asked for a person, and Fatou, who claimed the conversation."""
    customer = f"whatsapp:{phone()}"
    assert deliver(server, fake_twilio, "twilio_whatsapp", customer,
                   "je veux parler a un conseiller svp").ok
    fake_twilio.wait_for(customer)
    fatou = AgentSession(server.desk_url, "fatou")
    wait_until(lambda: customer in [c["conversation_id"]
                                    for c in fatou.get("/api/queue").json()["waiting"]])
    assert fatou.act(customer, "claim").ok
    fake_twilio.wait_for(customer, 2)  # told that Fatou joined: the next message is hers
    return customer, fatou


def test_an_agents_reply_to_a_whatsapp_customer_never_reaches_a_stranger(server, fake_twilio):
    customer, fatou = whatsapp_customer_with_fatou(server, fake_twilio)
    stranger = rest(server, {"sender": customer, "message": "je suis le client, mon PIN ?"})
    assert stranger.status_code == 403
    assert fatou.act(customer, "reply", text="Bonjour, ici Fatou.").ok
    assert "Bonjour, ici Fatou." in fake_twilio.wait_for(customer, count=3)
    assert "je suis le client, mon PIN ?" not in user_texts(server, customer)
    assert fatou.act(customer, "close").ok


def _web_session(url: str, requested: str | None, say_text: str | None = None,
                 as_session: str | None = None, until=None) -> dict:
    """A web-chat visit with python-socketio's own client: the session the server confirms
    and what the bot said by the time `until(session id, what it said)` held (after the
    server acknowledged the message, so it was queued or refused by then)."""
    client = socketio.Client(reconnection=False)
    confirmed, said = threading.Event(), []
    session: dict = {}

    @client.on("session_confirm")
    def on_confirm(data):
        session.setdefault("id", data)
        confirmed.set()

    client.on("bot_uttered", said.append)
    client.connect(url, transports=["websocket"], socketio_path="/socket.io")
    try:
        client.emit("session_request", {"session_id": requested})
        assert confirmed.wait(10), "no session_confirm"
        if say_text is not None:
            client.call("user_uttered", {"message": say_text,
                                         "session_id": as_session or session["id"]},
                        timeout=10)
        if until is not None:
            wait_until(lambda: until(session["id"], said))
        return {"session_id": session["id"], "said": said}
    finally:
        client.disconnect()


def test_a_web_chat_visitor_gets_only_a_conversation_the_server_issued(server):
    url = server.rasa_url
    first = _web_session(url, None, "bonjour", until=lambda _session, said: said)
    own = first["session_id"]
    assert own.startswith("web:") and len(own) == 36 and first["said"]
    assert _web_session(url, own)["session_id"] == own  # a reload resumes it
    for stolen in ("whatsapp:+221770032060", "+221770032060", f"web:{uuid.uuid4().hex}",
                   "test-someone-else"):
        assert _web_session(url, stolen)["session_id"] not in (stolen, own)
    intruder = _web_session(url, None, "je suis l'autre client", as_session=own,
                            until=lambda session, _said: settled(server.redis_url, own)
                            and settled(server.redis_url, session))
    assert intruder["said"] == []
    assert "je suis l'autre client" not in user_texts(server, own)


# --- 3. without the action server the bot went silent ------------------------------------

def test_without_the_action_server_customers_are_answered_and_queued(server, real_redis_url):
    actions = server.processes["actions"]
    os.kill(actions.pid, signal.SIGKILL)
    actions.wait()
    client = redis.Redis.from_url(real_redis_url)
    try:
        for message, reason in (("je veux parler a un conseiller", "asked_for_person"),
                                ("vous etes des voleurs, c'est honteux, je suis furieux !!!",
                                 "negative_sentiment")):
            customer = f"test-{uuid.uuid4().hex[:10]}"
            replies = say(server.rasa_url, customer, message)
            assert replies[0] == responses("fr")["utter_technical_problem"], replies
            assert len(replies) == 2 and replies[1] in all_texts("fr")
            assert Ownership(client).owner(customer) == QUEUED
            escalations = [json.loads(fields[b"data"]) for _id, fields in
                           client.xrevrange(STREAM, count=50)]
            assert any(e["conversation_id"] == customer and reason in e["reasons"]
                       for e in escalations), reason
    finally:
        restarted = wait_until(lambda: server.supervise(), timeout=30, step=0.5)
        assert restarted == ["actions"]
        server.wait_until_ready(timeout=120)


# --- 4. the HTTP API was open ---------------------------------------------------------------

def test_the_http_api_needs_a_signed_token_in_a_header(server, sender):
    say(server.rasa_url, sender, "bonjour")
    url = f"{server.rasa_url}/conversations/{sender}/tracker"
    send_sms = (f"{server.rasa_url}/conversations/{sender}/tracker/events"
                "?output_channel=twilio_sms&execute_side_effects=true")
    forged = jwt.encode({"user": {"username": "x", "role": "admin"}}, "not-the-secret",
                        algorithm="HS256")
    assert requests.get(url, timeout=10).status_code == 401
    assert requests.get(url, params={"token": API_TOKEN}, timeout=10).status_code == 401
    assert requests.get(url, headers={"Authorization": f"Bearer {forged}"},
                        timeout=10).status_code == 401
    assert requests.post(send_sms, json={"event": "bot", "text": "promo"},
                         timeout=10).status_code == 401
    assert requests.get(url, headers=auth_header(API_TOKEN), timeout=10).status_code == 200
    for process in server.processes.values():  # `ps` shows command lines to every user
        assert API_TOKEN not in Path(f"/proc/{process.pid}/cmdline").read_text()


def test_an_agent_sees_when_their_reply_could_not_be_delivered(server, fake_twilio):
    customer, fatou = whatsapp_customer_with_fatou(server, fake_twilio)
    fake_twilio.fail(customer, 400)  # Twilio refuses it: no retry helps
    assert fatou.act(customer, "reply", text="Bonjour, ici Fatou.").ok

    def delivery_of_the_reply():
        lines = fatou.get(f"/api/conversations/{customer}").json()["transcript"]
        return next((line["delivery"] for line in lines
                     if line["text"] == "Bonjour, ici Fatou." and line["delivery"]), None)

    assert wait_until(delivery_of_the_reply) == "failed"
    assert fatou.act(customer, "close").ok


# --- 5. 500s on malformed input ----------------------------------------------------------------

@pytest.mark.parametrize("body", [b"[" * 5000, b'{"a":' * 2000 + b"1" + b"}" * 2000,
                                  b'{"sender": "x", "message": ' + b"9" * 5000 + b"}",
                                  b"\xff\xfe", b"null", b'"text"'])
def test_malformed_rest_bodies_get_a_400_with_a_reason(server, body):
    reply = rest(server, body)
    assert reply.status_code == 400 and reply.json()["error"]


def test_a_lone_surrogate_is_answered(server, sender):
    reply = rest(server, b'{"sender": "%s", "message": "bonjour \\ud800"}' % sender.encode())
    assert reply.status_code == 200 and reply.json()


CHAT = {"id": 5, "type": "private"}
SENDER = {"id": 5, "is_bot": False, "first_name": "Amina"}


@pytest.mark.parametrize("update", [
    None, [], "text", {"update_id": 1, "message": "str"},
    {"update_id": 1, "message": {"message_id": 1, "date": 0}},
    {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "hi",
                                 "chat": {"id": "abc", "type": "private"}}},
    {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": CHAT, "text": 12345}},
    {"update_id": 1, "callback_query": {
        "id": "1", "data": 7, "from": SENDER, "chat_instance": "1",
        "message": {"message_id": 1, "date": 0, "chat": CHAT, "text": "options"}}},
    {"update_id": True}, {"update_id": "1"}, {"update_id": 10**30}])
def test_malformed_telegram_updates_get_a_400(server, update):
    reply = requests.post(f"{server.rasa_url}/webhooks/telegram/webhook", json=update,
                          headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
                          timeout=10)
    assert reply.status_code == 400 and "not a Telegram update" in reply.json()["error"]


def test_a_twilio_sms_webhook_cannot_claim_a_whatsapp_conversation(server, fake_twilio):
    reply = deliver(server, fake_twilio, "twilio_sms", f"whatsapp:{phone()}", "bonjour")
    assert reply.status_code == 400


@pytest.mark.parametrize("params", [{"after": "abc"}, {"wait": "nan"}, {"wait": "inf"},
                                    {"after": "1-2-3"}, {"wait": "1e400"}])
def test_bad_outbox_queries_get_a_400(server, sender, params):
    reply = requests.get(f"{server.rasa_url}/webhooks/rest/outbox",
                         params={"sender": sender, **params}, timeout=40)
    assert reply.status_code == 400


def test_the_server_still_answers_after_all_this(server, sender):
    # A whole turn, through Rasa and the action server, after all the tests above: whatever
    # they sent has been read by then.
    assert say(server.rasa_url, sender, "bonjour") == [responses("fr")["utter_greet"]]
    assert all(p.poll() is None for p in server.processes.values())
