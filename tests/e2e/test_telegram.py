"""Telegram end to end: updates posted to the running Rasa server's webhook as Telegram posts
them, replies out to a local stand-in for the Bot API."""

from __future__ import annotations

import json
import random

import pytest
import redis
import requests

from teranga.channels.delivery import DEAD_LETTERS
from tests.e2e.conftest import TELEGRAM_SECRET
from tests.e2e.desk_client import (
    SAMPLE_MESSAGES,
    AgentSession,
    all_texts,
    said_in,
    settled,
    tracker,
    wait_until,
)

pytestmark = pytest.mark.e2e

def chat() -> int:
    return random.randint(10**8, 10**9)


def post(server, update: dict, secret: str | None = TELEGRAM_SECRET) -> requests.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    return requests.post(f"{server.rasa_url}/webhooks/telegram/webhook", json=update,
                         headers=headers, timeout=10)


@pytest.mark.parametrize("language", sorted(SAMPLE_MESSAGES))
def test_a_telegram_message_in_each_language_is_answered_in_it(server, fake_telegram,
                                                                language):
    chat_id = chat()
    assert post(server, fake_telegram.update(chat_id, SAMPLE_MESSAGES[language])).ok
    [reply] = fake_telegram.wait_for(chat_id)
    assert said_in(language, reply), reply


def test_a_forged_secret_is_refused(server, fake_telegram, real_redis_url):
    chat_id = chat()
    assert post(server, fake_telegram.update(chat_id, "bonjour"), "forged").status_code == 403
    assert post(server, fake_telegram.update(chat_id, "bonjour"), None).status_code == 403
    assert post(server, {"nonsense": True}).status_code == 400
    wait_until(lambda: settled(real_redis_url, f"telegram:{chat_id}"))
    assert fake_telegram.to(chat_id) == []
    assert not [e for e in tracker(server.rasa_url, f"telegram:{chat_id}")["events"]
                if e["event"] == "user"]


def test_an_update_delivered_twice_gets_one_reply(server, fake_telegram, real_redis_url):
    chat_id = chat()
    update = fake_telegram.update(chat_id, "salut")
    for _ in range(2):
        assert post(server, update).ok
    fake_telegram.wait_for(chat_id)
    wait_until(lambda: settled(real_redis_url, f"telegram:{chat_id}"))
    assert len(fake_telegram.to(chat_id)) == 1


def test_failures_are_retried_and_refusals_dead_lettered(server, fake_telegram,
                                                        real_redis_url):
    retried, refused = chat(), chat()
    fake_telegram.fail(retried, 500, 429)
    fake_telegram.fail(refused, 403)
    post(server, fake_telegram.update(retried, "bonjour"))
    post(server, fake_telegram.update(refused, "bonjour"))
    fake_telegram.wait_for(retried)
    assert fake_telegram.attempts[retried] == 3
    client = redis.Redis.from_url(real_redis_url)
    letter = wait_until(lambda: next(
        (x for x in map(json.loads, client.lrange(DEAD_LETTERS, 0, -1))
         if x["recipient"] == f"telegram:{refused}"), None))
    assert letter["attempts"] == 1 and "blocked" in letter["error"]


def test_an_agent_reply_reaches_a_telegram_customer(server, fake_telegram):
    chat_id, conversation = chat(), None
    post(server, fake_telegram.update(chat_id, "i want to talk to an agent"))
    fake_telegram.wait_for(chat_id)
    conversation = f"telegram:{chat_id}"
    kofi = AgentSession(server.desk_url, "kofi")
    wait_until(lambda: conversation in [c["conversation_id"]
                                        for c in kofi.get("/api/queue").json()["waiting"]])
    assert kofi.act(conversation, "claim").ok
    assert kofi.act(conversation, "reply", text="Hello, Kofi here. How can I help?").ok
    # the hand-over's answer, "Kofi Mensah has joined", then Kofi's message
    assert fake_telegram.wait_for(chat_id, 3)[2:] == ["Hello, Kofi here. How can I help?"]
    assert kofi.act(conversation, "close").ok


def test_a_voice_note_goes_to_an_agent(server, fake_telegram, real_redis_url):
    chat_id = chat()
    post(server, fake_telegram.update(chat_id, voice={
        "file_id": "AwACAgQ", "file_unique_id": "u1", "duration": 4,
        "mime_type": "audio/ogg"}))
    said = fake_telegram.wait_for(chat_id, 2)
    assert said[0] in all_texts("fr")
    events = tracker(server.rasa_url, f"telegram:{chat_id}")["events"]
    [user] = [e for e in events if e["event"] == "user"]
    assert user["metadata"]["teranga"]["attachments"] == [
        {"file_id": "AwACAgQ", "content_type": "audio/ogg"}]
