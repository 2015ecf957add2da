"""A message a provider was told we have is answered, once, whatever process dies: a Rasa
process killed (kill -9) right after its webhook answered 200 leaves its messages to another
process, which answers each exactly once; a provider delivering the same message again gets
its 200 and no second answer."""

from __future__ import annotations

import socket
import uuid

import pytest
import requests

from teranga import runtime
from tests.e2e.conftest import TELEGRAM_SECRET
from tests.e2e.desk_client import responses, settled, tracker, wait_until
from tests.e2e.test_twilio import deliver, phone

pytestmark = pytest.mark.e2e


class Silence:
    """A provider that takes a request and never answers: a process sending through it is
    still waiting when it is killed, never in the moment after the provider took a reply and
    before it was recorded, where a takeover sends it again (the documented window,
    docs/reliability.md), which a kill "right after the 200s" would otherwise hit now and then."""

    def __enter__(self) -> str:
        self.socket = socket.create_server(("127.0.0.1", 0), backlog=64)
        return f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    def __exit__(self, *_exc) -> None:
        self.socket.close()


@pytest.fixture
def silent_provider():
    with Silence() as url:
        yield url


class Doomed:
    """A second Rasa process sharing Redis with the test server's, to be killed; its replies
    to the providers go to `provider_url`."""

    def __init__(self, server, model, provider_url: str) -> None:
        self.server = server
        self.port = runtime.free_port()
        self.rasa_url = f"http://127.0.0.1:{self.port}"
        server.start_rasa("rasa-doomed", model, self.port,
                          {"TWILIO_API_URL": provider_url, "TELEGRAM_API_URL": provider_url})
        self.process = server.processes["rasa-doomed"]
        wait_until(lambda: runtime.answers(f"{self.rasa_url}/status"), timeout=180, step=0.5)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        self.server.processes.pop("rasa-doomed", None)


def user_texts(rasa_url: str, sender: str) -> list[str]:
    return [e["text"] for e in tracker(rasa_url, sender)["events"] if e["event"] == "user"]


def test_messages_of_a_killed_rasa_process_are_answered_once_by_another(
        server, trained_model, fake_twilio, fake_telegram, silent_provider):
    doomed = Doomed(server, trained_model, silent_provider)
    sms, whatsapp = phone(), f"whatsapp:{phone()}"
    chat_id = uuid.uuid4().int % 10**9
    sid_sms, sid_whatsapp = "SM" + uuid.uuid4().hex, "SM" + uuid.uuid4().hex
    update = fake_telegram.update(chat_id, "bonjour")
    try:
        assert deliver(doomed, fake_twilio, "twilio_sms", sms, "bonjour", sid_sms).ok
        assert deliver(doomed, fake_twilio, "twilio_whatsapp", whatsapp, "bonjour",
                       sid_whatsapp).ok
        assert requests.post(f"{doomed.rasa_url}/webhooks/telegram/webhook", json=update,
                             headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
                             timeout=10).ok
    finally:
        doomed.kill()  # at once: nothing of its own is sent after the 200s
    greeting = responses("fr")["utter_greet"]
    # Up to 6 s for the others to see the process is gone, and a few more when it died in
    # the middle of a turn, holding the conversation's lock (its lease lapses:
    # teranga/channels/lock_leases.py).
    assert fake_twilio.wait_for(sms, timeout=60) == [greeting]
    assert fake_twilio.wait_for(whatsapp, timeout=60) == [greeting]
    assert fake_telegram.wait_for(chat_id, timeout=60) == [greeting]

    # The providers deliver the same messages again (they never heard our 200, say).
    assert deliver(server, fake_twilio, "twilio_sms", sms, "bonjour", sid_sms).ok
    assert requests.post(f"{server.rasa_url}/webhooks/telegram/webhook", json=update,
                         headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
                         timeout=10).ok
    wait_until(lambda: settled(server.redis_url, sms)
               and settled(server.redis_url, f"telegram:{chat_id}"))
    assert fake_twilio.to(sms) == [greeting]
    assert fake_telegram.to(chat_id) == [greeting]
    for sender in (sms, whatsapp, f"telegram:{chat_id}"):
        assert user_texts(server.rasa_url, sender) == ["bonjour"]


def test_a_customers_messages_are_answered_in_the_order_sent(server, fake_twilio):
    """Three quick messages, each processed after the one before, whichever process takes
    them: the tracker holds them in order."""
    customer = phone()
    for text in ("bonjour", "merci", "au revoir"):
        assert deliver(server, fake_twilio, "twilio_sms", customer, text).ok
    fake_twilio.wait_for(customer, count=3, timeout=40)
    assert user_texts(server.rasa_url, customer) == ["bonjour", "merci", "au revoir"]
