"""Personal data in the desk, against the real Redis test database with a stand-in for
Rasa's tracker: masked in the queue, the transcript and the overview's dead letters, shown to
the holder on demand (and recorded), refused to anyone else, and the audit readable by
supervisors only."""

from __future__ import annotations

import asyncio
import time
import uuid
from urllib.parse import quote

import pytest
import redis
import redis.asyncio as aioredis

from teranga.channels import delivery
from teranga.channels.delivery import DEAD_LETTERS
from teranga.privacy import audit
from tests.integration.test_desk_context_api import (  # noqa: F401 - the fixtures
    ENGLISH,
    FRENCH,
    SUPERVISOR,
    agents_file,
    conversations,
    desk,
    make_desk,
    rasa,
    url,
    user,
)

pytestmark = pytest.mark.usefixtures("several_apps")

NUMBER, MASKED = "77 123 45 67", "77 ••• •• 67"  # as the escalation's message has it
SAID = f"Mon numéro c'est {NUMBER}, le transfert de 5000 F a échoué"


@pytest.fixture
def conversation_id(real_redis_url):
    """A conversation of this run's own; its audit entries are removed afterwards."""
    conversation_id = f"whatsapp:+22176{str(uuid.uuid4().int)[:7]}"
    yield conversation_id
    asyncio.run(audit.forget(redis.Redis.from_url(real_redis_url), {conversation_id}))


def test_the_queue_and_transcript_are_masked_and_the_holder_reveals(
        desk, conversations, rasa, conversation_id):  # noqa: F811 - the fixtures
    conversations(conversation_id)
    rasa.events[conversation_id] = [user(SAID, "transfer_failed", 0.9, time.time() - 30)]
    french = desk.session(FRENCH)

    [card] = [c for c in french.get(f"{desk.url}/api/queue", timeout=10).json()["waiting"]
              if c["conversation_id"] == conversation_id]
    assert MASKED in card["preview"] and NUMBER not in card["preview"]
    assert MASKED in card["last_message"]["text"] and NUMBER not in card["last_message"]["text"]

    conversations(conversation_id, owner=FRENCH)  # now hers
    shown = french.get(f"{desk.url}/api/conversations/{quote(conversation_id, safe='')}",
                       timeout=10)
    assert shown.status_code == 200, shown.text
    assert [line["text"] for line in shown.json()["transcript"]] == [SAID.replace(NUMBER,
                                                                                   MASKED)]

    revealed = french.post(url(desk, conversation_id, "reveal"), timeout=10)
    assert revealed.status_code == 200, revealed.text
    assert [line["text"] for line in revealed.json()["transcript"]] == [SAID]
    assert {"kind": "phone", "text": NUMBER} in revealed.json()["facts"]

    supervisor = desk.session(SUPERVISOR)
    entries = supervisor.get(f"{desk.url}/api/audit", params={"conversation_id": conversation_id},
                             timeout=10).json()["entries"]
    assert [(e["actor"], e["action"], e["detail"]) for e in entries] == [
        (FRENCH, "reveal", None), (FRENCH, "read", "conversation")]
    assert NUMBER not in str(entries) and "transfert" not in str(entries)


def test_only_the_holder_may_reveal_and_only_supervisors_read_the_audit(
        desk, conversations, rasa, conversation_id):  # noqa: F811 - the fixtures
    conversations(conversation_id, owner=FRENCH)
    rasa.events[conversation_id] = [user(SAID, "transfer_failed", 0.9, time.time() - 30)]

    # the supervisor sees the conversation but does not hold it; the English agent sees nothing
    assert desk.session(SUPERVISOR).post(url(desk, conversation_id, "reveal"),
                                         timeout=10).status_code == 403
    assert desk.session(ENGLISH).post(url(desk, conversation_id, "reveal"),
                                      timeout=10).status_code == 404
    for agent in (FRENCH, ENGLISH):
        refused = desk.session(agent).get(f"{desk.url}/api/audit", timeout=10)
        assert refused.status_code == 403 and "entries" not in refused.json()
    entries = desk.session(SUPERVISOR).get(
        f"{desk.url}/api/audit", params={"conversation_id": conversation_id},
        timeout=10).json()["entries"]
    assert [e["action"] for e in entries] == []  # refused reveals showed nothing
    too_long = desk.session(SUPERVISOR).get(f"{desk.url}/api/audit",
                                            params={"conversation_id": "x" * 201}, timeout=10)
    assert too_long.status_code == 400


# A number the detector recognises, and one it does not (no such Senegalese prefix): Twilio
# refuses the latter, and quotes it in its error.
@pytest.fixture(params=["whatsapp:+22177", "+22172"])
def dead_letter(request, real_redis_url):
    """A reply Twilio refused, as the channel keeps it (removed afterwards)."""
    client = redis.Redis.from_url(real_redis_url)
    recipient = f"{request.param}{str(uuid.uuid4().int)[:7]}"
    letter = {"channel": "twilio_whatsapp", "recipient": recipient,
              "text": f"Nous rappelons le {NUMBER} demain",
              "error": f"Twilio answered 400: The 'To' number {recipient} is not valid",
              "status": 400, "attempts": 1}
    asyncio.run(_add_dead_letter(real_redis_url, letter))
    yield letter
    for stored in client.lrange(DEAD_LETTERS, 0, -1):
        if recipient in stored.decode():
            client.lrem(DEAD_LETTERS, 0, stored)


async def _add_dead_letter(url: str, letter: dict) -> None:
    client = aioredis.Redis.from_url(url)
    try:
        await delivery.DeadLetters(client).add(letter)
    finally:
        await client.close()


def test_the_overview_masks_the_dead_letters(desk, dead_letter):  # noqa: F811 - the fixtures
    overview = desk.session(SUPERVISOR).get(f"{desk.url}/api/overview", timeout=10)
    assert overview.status_code == 200, overview.text
    channel_prefix, _, digits = dead_letter["recipient"].rpartition("+")
    [shown] = [letter for letter in overview.json()["dead_letters"]
               if letter["recipient"].startswith(f"{channel_prefix}+")
               and letter["recipient"].endswith(digits[-2:]) and letter["status"] == 400]
    assert shown["text"] == dead_letter["text"].replace(NUMBER, MASKED)
    for field in ("recipient", "text", "error"):
        assert digits[:-2] not in shown[field] and NUMBER not in shown[field], shown
    assert shown["error"].startswith("Twilio answered 400: The 'To' number ")
    assert (shown["channel"], shown["status"], shown["attempts"]) == ("twilio_whatsapp", 400, 1)
