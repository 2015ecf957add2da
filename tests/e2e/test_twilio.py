"""SMS and WhatsApp through Twilio, end to end: signed webhooks into the running Rasa server,
replies out to a local stand-in for Twilio's Messages API."""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import quote

import pytest
import redis
import requests

from teranga.agent_desk.views import masked_letter
from teranga.channels.delivery import DEAD_LETTERS
from teranga.channels.outbound import sms_length
from tests.blocking import ConversationRecords
from tests.e2e.conftest import PUBLIC_URL
from tests.e2e.desk_client import (
    SAMPLE_MESSAGES,
    AgentSession,
    all_texts,
    responses,
    said_in,
    settled,
    tracker,
    wait_until,
)

pytestmark = pytest.mark.e2e

def texts(language: str) -> set[str]:
    """What the bot can say, spaces normalised (a split SMS is joined back with spaces)."""
    return {" ".join(text.split()) for text in all_texts(language)}


def phone() -> str:
    return f"+2217{uuid.uuid4().int % 10**8:08d}"


def deliver(server, fake, channel: str, sender: str, body: str, sid: str | None = None,
            signature: str | None = None, **extra) -> requests.Response:
    """Twilio's webhook for one inbound message, signed as Twilio signs it."""
    params = {"MessageSid": sid or "SM" + uuid.uuid4().hex, "AccountSid": fake.account_sid,
              "From": sender, "To": "+15550001111", "Body": body, "NumMedia": "0", **extra}
    public = f"{PUBLIC_URL}/webhooks/{channel}/webhook"
    headers = {"X-Twilio-Signature": signature or fake.sign(public, params)}
    return requests.post(f"{server.rasa_url}/webhooks/{channel}/webhook", data=params,
                         headers=headers, timeout=10)


@pytest.mark.parametrize("channel", ["twilio_sms", "twilio_whatsapp"])
@pytest.mark.parametrize("language", sorted(SAMPLE_MESSAGES))
def test_a_message_in_each_language_is_answered_in_it(server, fake_twilio, channel, language,
                                                      real_redis_url):
    customer = phone() if channel == "twilio_sms" else f"whatsapp:{phone()}"
    reply = deliver(server, fake_twilio, channel, customer, SAMPLE_MESSAGES[language])
    assert reply.status_code == 200 and "<Response>" in reply.text
    fake_twilio.wait_for(customer)
    # The French and Wolof replies are two SMS segments: read them once all are sent, not
    # after the first (the joined text was then half a response, and not "in" the language).
    wait_until(lambda: settled(real_redis_url, customer))
    parts = fake_twilio.to(customer)
    if channel == "twilio_sms":
        assert all(sms_length(p)[0] <= sms_length(p)[1] for p in parts)
    else:
        assert len(parts) == 1  # one WhatsApp message holds it
    assert said_in(language, " ".join(parts)), parts


def test_a_long_reply_is_split_into_sms_segments_at_sentences(server, fake_twilio,
                                                               real_redis_url):
    customer = phone()
    deliver(server, fake_twilio, "twilio_sms", customer, "mon transfert a echoue hier")
    wait_until(lambda: settled(real_redis_url, customer))  # all sent
    parts = fake_twilio.to(customer)
    assert len(parts) >= 2, parts
    for part in parts:
        length, limit = sms_length(part)
        assert length <= limit and part.rstrip().endswith((".", "!", "?", ":")), part
    assert " ".join(" ".join(parts).split()) in texts("fr")


def test_a_forged_or_missing_signature_is_refused(server, fake_twilio, real_redis_url):
    customer = phone()
    assert deliver(server, fake_twilio, "twilio_sms", customer, "bonjour",
                   signature="Zm9yZ2Vk").status_code == 403
    unsigned = requests.post(f"{server.rasa_url}/webhooks/twilio_sms/webhook",
                             data={"MessageSid": "SM1", "From": customer, "Body": "hi"},
                             timeout=10)
    assert unsigned.status_code == 403
    wait_until(lambda: settled(real_redis_url, customer))
    assert fake_twilio.to(customer) == []
    assert not [e for e in tracker(server.rasa_url, customer)["events"]
                if e["event"] == "user"]


def test_a_webhook_delivered_twice_gets_one_reply(server, fake_twilio, real_redis_url):
    customer, sid = phone(), "SM" + uuid.uuid4().hex
    for _ in range(2):
        assert deliver(server, fake_twilio, "twilio_sms", customer, "salut", sid=sid).ok
    fake_twilio.wait_for(customer)
    wait_until(lambda: settled(real_redis_url, customer))
    assert len(fake_twilio.to(customer)) == 1
    users = [e for e in tracker(server.rasa_url, customer)["events"] if e["event"] == "user"]
    assert len(users) == 1


def test_a_twilio_failure_is_retried_and_delivered(server, fake_twilio):
    customer = phone()
    fake_twilio.fail(customer, 500, 429)
    assert deliver(server, fake_twilio, "twilio_sms", customer, "bonjour").ok
    # Twilio had its answer before the bot's reply got through its retries.
    assert fake_twilio.to(customer) == [] and fake_twilio.attempts[customer] < 3
    fake_twilio.wait_for(customer)
    assert fake_twilio.attempts[customer] == 3


def test_a_refused_message_becomes_a_dead_letter(server, fake_twilio, real_redis_url):
    customer = phone()
    fake_twilio.fail(customer, 400)
    deliver(server, fake_twilio, "twilio_sms", customer, "bonjour")
    client = redis.Redis.from_url(real_redis_url)

    def letter():
        letters = [json.loads(x) for x in client.lrange(DEAD_LETTERS, 0, -1)]
        return next((x for x in letters if x["recipient"] == customer), None)

    found = wait_until(letter)
    assert found["status"] == 400 and found["attempts"] == 1 and found["channel"] == "twilio_sms"
    assert "21211" in found["error"] and found["text"]
    assert fake_twilio.to(customer) == []
    # Supervisors see it, with the number masked as the desk's other lists mask it
    overview = AgentSession(server.desk_url, "sara").get("/api/overview").json()
    shown = [letter["recipient"] for letter in overview["dead_letters"]]
    assert masked_letter({"recipient": customer})["recipient"] in shown
    assert customer not in json.dumps(overview["dead_letters"])
    # The delivery's log line ("Giving up sending to ...") names the number masked, as every
    # log line of every process does
    logs = " ".join(path.read_text(errors="replace") for path in server.log_dir.glob("*.log"))
    assert "Giving up sending to +" in logs and customer[1:] not in logs


def test_whatsapp_replies_and_an_agent_reaches_the_customer(server, fake_twilio,
                                                            real_redis_url):
    customer = f"whatsapp:{phone()}"
    deliver(server, fake_twilio, "twilio_whatsapp", customer, "salut", ProfileName="Awa")
    assert fake_twilio.wait_for(customer)
    deliver(server, fake_twilio, "twilio_whatsapp", customer,
            "je veux parler a un conseiller svp")
    fake_twilio.wait_for(customer, 2)
    assert all(m["From"] == "whatsapp:+15550002222" for m in fake_twilio.sent
               if m["To"] == customer)
    fatou = AgentSession(server.desk_url, "fatou")
    wait_until(lambda: customer in [c["conversation_id"]
                                    for c in fatou.get("/api/queue").json()["waiting"]])
    assert fatou.act(customer, "claim").ok
    assert fatou.act(customer, "reply", text="Bonjour Awa, je regarde votre dossier.").ok
    # told that Fatou joined, then her message
    assert fake_twilio.wait_for(customer, 4)[2:] == [
        responses("fr")["utter_agent_joined"].replace("{agent_name}", "Fatou Sarr"),
        "Bonjour Awa, je regarde votre dossier."]
    # Twilio reports the message delivered; the agent sees it on their message.
    wait_until(lambda: [line.get("delivery") for line in
                        fatou.get(f"/api/conversations/{quote(customer, safe='')}")
                        .json()["transcript"] if line["from"] == "agent"] == ["delivered"])
    # A day later, without a word from the customer: WhatsApp would refuse a free-form reply.
    redis.Redis.from_url(real_redis_url).set(f"teranga:last-inbound:twilio_whatsapp:{customer}",
                                             time.time() - 25 * 3600)
    late = fatou.act(customer, "reply", text="Vous êtes toujours là ?")
    assert late.status_code == 409 and "24 hours" in late.json()["error"]
    wait_until(lambda: settled(real_redis_url, customer))
    assert len(fake_twilio.to(customer)) == 4
    assert fatou.act(customer, "close").ok


def test_media_and_locations_are_kept_as_references(server, fake_twilio):
    customer = f"whatsapp:{phone()}"
    deliver(server, fake_twilio, "twilio_whatsapp", customer, "voici la photo", NumMedia="1",
            MediaUrl0="https://api.twilio.com/media/ME1", MediaContentType0="image/jpeg")
    fake_twilio.wait_for(customer)
    [user] = [e for e in tracker(server.rasa_url, customer)["events"] if e["event"] == "user"]
    record = user["metadata"]["teranga"]
    assert record["attachments"] == [{"url": "https://api.twilio.com/media/ME1",
                                      "content_type": "image/jpeg"}]


def test_a_voice_note_goes_to_an_agent_and_a_picture_gets_a_polite_reply(
        server, fake_twilio, real_redis_url):
    fr = {name: " ".join(text.split()) for name, text in responses("fr").items()}
    customer = f"whatsapp:{phone()}"
    assert deliver(server, fake_twilio, "twilio_whatsapp", customer, "", NumMedia="1",
                   MediaUrl0="https://api.twilio.com/media/ME2",
                   MediaContentType0="image/jpeg").ok
    assert [" ".join(t.split()) for t in fake_twilio.wait_for(customer)] == [
        fr["utter_media_received"]]
    deliver(server, fake_twilio, "twilio_whatsapp", customer, "", NumMedia="1",
            MediaUrl0="https://api.twilio.com/media/ME3", MediaContentType0="audio/ogg")
    said = [" ".join(t.split()) for t in fake_twilio.wait_for(customer, 3)]
    assert said[1:] == [fr["utter_media_to_agent"], fr["utter_handoff_no_agent"]]
    record = wait_until(lambda: ConversationRecords(redis.Redis.from_url(real_redis_url))
                        .get(customer))
    assert record.escalation.reasons == ["voice_note"]



def test_a_number_picks_one_of_the_options_last_shown(server, fake_twilio, real_redis_url):
    customer = phone()
    # The options a bot message with buttons left for this customer (teranga.channels.options)
    redis.Redis.from_url(real_redis_url).set(
        f"teranga:options:twilio_sms:{customer}", json.dumps([["Oui", "/affirm"],
                                                              ["Non", "/deny"]]))
    deliver(server, fake_twilio, "twilio_sms", customer, "2")
    fake_twilio.wait_for(customer)
    [user] = [e for e in tracker(server.rasa_url, customer)["events"] if e["event"] == "user"]
    assert user["parse_data"]["intent"]["name"] == "deny"


def test_no_agent_available_on_sms_means_a_callback_offer(server, fake_twilio, real_redis_url):
    fr = {name: " ".join(text.split()) for name, text in responses("fr").items()}
    customer = phone()
    deliver(server, fake_twilio, "twilio_sms", customer, "je veux parler a un conseiller")
    wait_until(lambda: " ".join(" ".join(fake_twilio.to(customer)).split())
               == fr["utter_handoff_no_agent"])
    offered = len(fake_twilio.to(customer))
    deliver(server, fake_twilio, "twilio_sms", customer, "oui")
    assert fake_twilio.wait_for(customer, offered + 1)[-1] == fr["utter_callback_noted"]
    record = wait_until(lambda: (r := ConversationRecords(redis.Redis.from_url(
        real_redis_url)).get(customer)) and "callback_requested" in r.escalation.reasons and r)
    assert record.language == "fr"
    supervisor = AgentSession(server.desk_url, "sara")
    waiting = {c["conversation_id"]: c for c in supervisor.get("/api/queue").json()["waiting"]}
    assert waiting[customer]["callback"] is True
