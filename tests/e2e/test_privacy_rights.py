"""The customer's rights through the whole stack: one person writes on SMS and on WhatsApp
with the same number, is handed to the desk, an agent answers; then `teranga privacy export`
gives everything held about them and `teranga privacy erase` removes it, proven by a scan of
every key and value of the database. And the retention period: a customer served by the
desk a day ago is purged everywhere, audit included, while a recent one and the anonymous
aggregates stay."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from urllib.parse import quote

import pytest
import redis

from teranga import redis_keys
from teranga.channels.delivery import DEAD_LETTERS
from teranga.customer_data import commands
from teranga.customer_data.customer import customer_of
from teranga.customer_data.erase import prove
from teranga.customer_data.retention import DAY_SECONDS
from teranga.dialogue.event_log import EventLog
from teranga.privacy import audit
from tests.e2e.desk_client import AgentSession, responses, settled, wait_until
from tests.e2e.test_twilio import deliver, phone

pytestmark = pytest.mark.e2e

AGENT_REPLY = "Bonjour, je regarde votre transfert tout de suite."


def privacy(redis_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "REDIS_URL": redis_url}
    return subprocess.run([sys.executable, "-m", "teranga", "privacy", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_customer_on_sms_and_whatsapp_is_exported_then_erased(server, fake_twilio,
                                                                 real_redis_url, tmp_path):
    number = phone()
    whatsapp = f"whatsapp:{number}"
    deliver(server, fake_twilio, "twilio_sms", number, "bonjour mon transfert est bloqué")
    fake_twilio.wait_for(number)
    deliver(server, fake_twilio, "twilio_whatsapp", whatsapp, "salut", ProfileName="Awa")
    fake_twilio.wait_for(whatsapp)
    deliver(server, fake_twilio, "twilio_whatsapp", whatsapp,
            "je veux parler a un conseiller svp")
    fake_twilio.wait_for(whatsapp, 2)
    fatou = AgentSession(server.desk_url, "fatou")
    wait_until(lambda: whatsapp in [c["conversation_id"]
                                    for c in fatou.get("/api/queue").json()["waiting"]])
    assert fatou.act(whatsapp, "claim").ok
    assert fatou.act(whatsapp, "reply", text=AGENT_REPLY).ok
    # after or before the desk's "Fatou has joined", as the delivery queue takes them
    wait_until(lambda: AGENT_REPLY in fake_twilio.to(whatsapp))

    held = privacy(real_redis_url, "erase", number, "--yes")
    assert held.returncode == 3 and "fatou" in held.stderr, held.stderr

    assert fatou.act(whatsapp, "close").ok
    client = redis.Redis.from_url(real_redis_url)
    wait_until(lambda: settled(real_redis_url, number) and settled(real_redis_url, whatsapp)
               and client.exists(redis_keys.customer_history(f"phone:{number}")))
    time.sleep(1)  # the desk's live view has read the last events

    out = tmp_path / "export.json"
    exported = privacy(real_redis_url, "export", number.replace("7", " 7", 1), "--out",
                       str(out))
    assert exported.returncode == 0, exported.stderr
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    document = json.loads(out.read_text("utf-8"))
    said = {cid: [e.get("text") for e in conversation["events"] if e["event"] == "user"]
            for cid, conversation in document["conversations"].items()}
    assert said == {number: ["bonjour mon transfert est bloqué"],
                    whatsapp: ["salut", "je veux parler a un conseiller svp"]}
    agent_lines = [e["text"] for e in document["conversations"][whatsapp]["events"]
                   if e["event"] == "bot" and (e.get("metadata") or {}).get("agent")]
    assert AGENT_REPLY in agent_lines
    assert redis_keys.conversation_record(whatsapp) in document["keys"]
    history = document["keys"][redis_keys.customer_history(f"phone:{number}")]["value"]
    assert history[0]["conversation_id"] == whatsapp
    assert redis_keys.EVENTS in document["shared_keys"]
    assert redis_keys.ESCALATIONS in document["shared_keys"]
    before = prove(client, customer_of(number))
    assert len(before.keys) >= 10, before.keys

    erased = privacy(real_redis_url, "erase", whatsapp, "--yes")
    assert erased.returncode == 0, erased.stdout + erased.stderr
    assert f"0 keys, 0 values mention {number}" in erased.stdout
    print(f"\nbefore erasing: {len(before.keys)} keys, {sum(before.values.values())} values "
          f"mention the customer; {erased.stdout.splitlines()[0]}")
    assert prove(client, customer_of(number)).clean
    # The desk carries on without them.
    assert fatou.get("/api/queue").ok
    assert fatou.get(f"/api/conversations/{quote(whatsapp, safe='')}").status_code in (403,
                                                                                      404)
    logs = prove(client, customer_of(number), server.log_dir).log_files
    print(f"log files still naming the customer (not rewritten): {logs}")


def said_to(fake_twilio, recipient: str) -> list[str]:
    """What Twilio was asked to send, spaces normalised (SMS parts are joined back)."""
    return [" ".join(text.split()) for text in fake_twilio.to(recipient)]


def served_by_the_desk(server, fake_twilio, real_redis_url, number: str) -> None:
    """A reply to the number's SMS is refused (a dead letter); on WhatsApp they ask for a
    person, Fatou claims, reads, answers and hands back; they say they are satisfied."""
    whatsapp = f"whatsapp:{number}"
    fr = {name: " ".join(text.split()) for name, text in responses("fr").items()}
    fake_twilio.fail(number, 400)
    deliver(server, fake_twilio, "twilio_sms", number, "bonjour")
    client = redis.Redis.from_url(real_redis_url)
    wait_until(lambda: number.encode() in b"".join(client.lrange(DEAD_LETTERS, 0, -1)))
    deliver(server, fake_twilio, "twilio_whatsapp", whatsapp,
            "je veux parler a un conseiller svp")
    fake_twilio.wait_for(whatsapp)
    fatou = AgentSession(server.desk_url, "fatou")
    wait_until(lambda: whatsapp in [c["conversation_id"]
                                    for c in fatou.get("/api/queue").json()["waiting"]])
    assert fatou.act(whatsapp, "claim").ok
    assert fatou.get(f"/api/conversations/{quote(whatsapp, safe='')}").ok
    assert fatou.act(whatsapp, "reply", text=AGENT_REPLY).ok
    wait_until(lambda: AGENT_REPLY in fake_twilio.to(whatsapp))
    assert fatou.act(whatsapp, "return").ok
    wait_until(lambda: fr["utter_ask_satisfaction"] in said_to(fake_twilio, whatsapp))
    deliver(server, fake_twilio, "twilio_whatsapp", whatsapp, "oui merci beaucoup")
    wait_until(lambda: fr["utter_satisfaction_thanks"] in said_to(fake_twilio, whatsapp))
    wait_until(lambda: settled(real_redis_url, number) and settled(real_redis_url, whatsapp)
               and client.exists(redis_keys.customer_history(f"phone:{number}")))


def audit_of(client: redis.Redis, conversation_id: str) -> list[str]:
    return [entry["action"] for entry in asyncio.run(
        audit.latest(client, audit.MAX_LATEST, conversation_id=conversation_id))]


def test_retention_purges_an_old_customer_everywhere_and_keeps_the_recent_and_aggregates(
        server, fake_twilio, real_redis_url, capsys):
    old, recent = phone(), phone()
    client = redis.Redis.from_url(real_redis_url)
    served_by_the_desk(server, fake_twilio, real_redis_url, old)
    assert {"claim", "read", "reply", "return"} <= set(audit_of(client, f"whatsapp:{old}"))
    assert client.exists(redis_keys.conversation_record(f"whatsapp:{old}"))
    time.sleep(1)  # the desk's live view has read the last events
    # Everything about the old customer happened before this instant, the recent one's after.
    boundary = time.time()
    time.sleep(0.1)
    deliver(server, fake_twilio, "twilio_sms", recent, "bonjour mon transfert est bloqué")
    fake_twilio.wait_for(recent)
    wait_until(lambda: settled(real_redis_url, recent))
    satisfaction = client.hgetall(redis_keys.SATISFACTION)
    assert int(satisfaction[b"fatou:yes"]) >= 1
    before = prove(client, customer_of(old))

    # The operator's daily purge, run a day after the boundary with a 1-day period.
    assert commands.run_purge(1, real_redis_url, now=boundary + DAY_SECONDS) == 0
    printed = capsys.readouterr().out

    after = prove(client, customer_of(old))
    assert after.clean, (after.keys, after.values)
    assert audit_of(client, old) == audit_of(client, f"whatsapp:{old}") == []
    assert EventLog(client).exists(recent)
    assert not prove(client, customer_of(recent)).clean
    assert client.hgetall(redis_keys.SATISFACTION) == satisfaction
    assert AgentSession(server.desk_url, "sara").get("/api/overview").ok
    print(f"\nbefore the purge: {len(before.keys)} keys, {sum(before.values.values())} "
          f"values mention the old customer; {printed.strip()}; afterwards: "
          f"{after.summary(old)}")
