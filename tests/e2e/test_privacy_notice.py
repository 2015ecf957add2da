"""The short privacy notice at a customer's first contact, on every channel, in the
customer's language, after the bot's first answer; once per conversation; switched on and off
by the privacy settings file while the servers run (the other e2e tests run with it off)."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.e2e.desk_client import SAMPLE_MESSAGES, responses, say, wait_until
from tests.e2e.test_telegram import chat, post
from tests.e2e.test_twilio import deliver, phone
from tests.e2e.test_webchat import Visit

pytestmark = pytest.mark.e2e
POLICY_URL = "https://privacy.test/sunutel"


@pytest.fixture
def notice_on_every_channel(server, privacy_file):
    privacy_file.write_text(
        "notice:\n  channels: [twilio_sms, twilio_whatsapp, telegram, socketio, rest]\n"
        f"  policy_url: {POLICY_URL}\n", "utf-8")
    yield
    privacy_file.write_text("notice:\n  channels: []\n", "utf-8")


def flat(text: str) -> str:
    return " ".join(text.split())


def notice(language: str) -> str:
    return flat(responses(language)["utter_privacy_notice"].replace("{policy_url}", POLICY_URL))


def times_told(texts: list[str], language: str) -> int:
    """How often the notice is in what a customer received (an SMS may come in parts)."""
    return flat(" ".join(texts)).count(notice(language))


def test_each_channel_s_first_contact_gets_the_notice_once_in_the_customers_language(
        notice_on_every_channel, server, fake_twilio, fake_telegram):
    # REST, in English: the notice follows the bot's first answer, in the same response
    rest = f"rest-{uuid.uuid4().hex[:12]}"
    first = say(server.rasa_url, rest, SAMPLE_MESSAGES["en"])
    assert len(first) >= 2 and flat(first[-1]) == notice("en"), first
    assert times_told(say(server.rasa_url, rest, "thank you"), "en") == 0

    # Twilio SMS in French, WhatsApp in Wolof
    sms, whatsapp = phone(), f"whatsapp:{phone()}"
    for channel, sender, language in (("twilio_sms", sms, "fr"),
                                      ("twilio_whatsapp", whatsapp, "wo")):
        assert deliver(server, fake_twilio, channel, sender,
                       SAMPLE_MESSAGES[language]).status_code == 200
        wait_until(lambda s=sender, lang=language: times_told(fake_twilio.to(s), lang) == 1)

    # Telegram in Swahili
    chat_id = chat()
    assert post(server, fake_telegram.update(chat_id, SAMPLE_MESSAGES["sw"])).ok
    wait_until(lambda: times_told(fake_telegram.to(chat_id), "sw") == 1)

    # The web chat in Hausa, with python-socketio's client as a widget speaks
    with Visit(server.rasa_url) as visit:
        session_id, _history = visit.new_session()
        said = []
        for _ in range(2):
            visit.emit("user_uttered", {"message": SAMPLE_MESSAGES["ha"],
                                        "session_id": session_id,
                                        "client_id": uuid.uuid4().hex})
            said.append(visit.event("bot_uttered", timeout=30)["text"])  # at least the answer
            while times_told(said, "ha") == 0:
                said.append(visit.event("bot_uttered", timeout=30)["text"])
        said += [data["text"] for name, data in visit.quiet(3) if name == "bot_uttered"]
    assert times_told(said, "ha") == 1, said
    assert flat(said[0]) != notice("ha")  # the answer comes first

    # A second message on each provider channel: answered, without the notice again
    counts = {sms: len(fake_twilio.to(sms)), whatsapp: len(fake_twilio.to(whatsapp))}
    for channel, sender, language in (("twilio_sms", sms, "fr"),
                                      ("twilio_whatsapp", whatsapp, "wo")):
        deliver(server, fake_twilio, channel, sender, SAMPLE_MESSAGES[language])
        wait_until(lambda s=sender: len(fake_twilio.to(s)) > counts[s])
    telegram_count = len(fake_telegram.to(chat_id))
    post(server, fake_telegram.update(chat_id, SAMPLE_MESSAGES["sw"]))
    wait_until(lambda: len(fake_telegram.to(chat_id)) > telegram_count)
    time.sleep(2)  # anything else this turn would send
    assert times_told(fake_twilio.to(sms), "fr") == 1
    assert times_told(fake_twilio.to(whatsapp), "wo") == 1
    assert times_told(fake_telegram.to(chat_id), "sw") == 1


def test_a_channel_switched_off_sends_no_notice(server, privacy_file):
    privacy_file.write_text(f"notice:\n  channels: [telegram]\n  policy_url: {POLICY_URL}\n",
                            "utf-8")
    try:
        replies = say(server.rasa_url, f"rest-{uuid.uuid4().hex[:12]}", SAMPLE_MESSAGES["fr"])
    finally:
        privacy_file.write_text("notice:\n  channels: []\n", "utf-8")
    assert replies and times_told(replies, "fr") == 0
