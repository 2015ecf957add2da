"""The customer's rights through the whole stack: one person writes on SMS and on WhatsApp
with the same number, is handed to the desk, an agent answers; then `teranga privacy export`
gives everything held about them and `teranga privacy erase` removes it, proven by a scan of
every key and value of the database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from urllib.parse import quote

import pytest
import redis

from teranga import redis_keys
from teranga.customer_data.customer import customer_of
from teranga.customer_data.erase import prove
from tests.e2e.desk_client import AgentSession, settled, wait_until
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
