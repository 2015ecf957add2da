"""The audit record (teranga/privacy/audit.py) and the desk's masking of personal data in
what it shows (teranga/agent_desk/summaries.py, views.py, context_api.py), against an
in-memory Redis."""

from __future__ import annotations

import asyncio

import fakeredis
import pytest

from teranga import redis_keys
from teranga.agent_desk import summaries
from teranga.agent_desk.context_api import masked_episode, masked_summary
from teranga.agent_desk.desk import DeskError
from teranga.agent_desk.summaries import masked, masked_fact, masked_transcript, transcript
from teranga.agent_desk.views import ConversationView, Overview, QueueView, RevealView
from teranga.customer_data import commands
from teranga.privacy import audit
from tests.unit.test_desk_queue import AWA, FATOU, MUSA, escalation, store, waiting  # noqa: F401

NUMBER, MASKED_NUMBER = "+221 77 123 45 67", "+221 77 ••• •• 67"
SAID = f"Mon numéro est {NUMBER}, le transfert a échoué"


def run(coroutine):
    return asyncio.run(coroutine)


# --- the audit record ------------------------------------------------------------------------

def test_entries_come_back_newest_first_with_who_what_and_when():
    client = fakeredis.aioredis.FakeRedis()

    async def scenario():
        await audit.record(client, "awa", "claim", "whatsapp:+221771234567")
        await audit.record(client, "awa", "close", "whatsapp:+221771234567", "wrap-up solved")
        await audit.record(client, "musa", "read", "web:abc", "conversation")
        return await audit.latest(client)

    entries = run(scenario())
    assert [(e["actor"], e["action"], e["conversation_id"], e["detail"]) for e in entries] == [
        ("musa", "read", "web:abc", "conversation"),
        ("awa", "close", "whatsapp:+221771234567", "wrap-up solved"),
        ("awa", "claim", "whatsapp:+221771234567", None)]
    assert all(isinstance(e["at"], float) and e["id"] for e in entries)


def test_one_conversation_s_entries_are_found_across_batches(monkeypatch):
    monkeypatch.setattr(audit, "_BATCH", 3)
    client = fakeredis.aioredis.FakeRedis()

    async def scenario():
        for number in range(10):
            await audit.record(client, "awa", "reply", "web:one" if number % 4 == 0 else "web:x")
        return (await audit.latest(client, conversation_id="web:one"),
                await audit.latest(client, count=2, conversation_id="web:x"))

    one, latest_two = run(scenario())
    assert len(one) == 3 and {e["conversation_id"] for e in one} == {"web:one"}
    assert len(latest_two) == 2 and latest_two[0]["id"] > latest_two[1]["id"]


def test_at_most_the_maximum_is_returned_and_the_stream_is_capped(monkeypatch):
    monkeypatch.setattr(audit, "MAX_ENTRIES", 250)
    client = fakeredis.aioredis.FakeRedis()

    async def scenario():
        for _ in range(400):
            await audit.record(client, "awa", "read", "web:abc")
        return await audit.latest(client, count=10_000), await client.xlen(redis_keys.audit_log())

    entries, length = run(scenario())
    assert len(entries) == audit.MAX_LATEST
    assert length < 400


def test_an_unknown_action_is_refused_and_long_fields_are_cut():
    client = fakeredis.aioredis.FakeRedis()
    with pytest.raises(ValueError, match="unknown audit action"):
        run(audit.record(client, "awa", "peek", "web:abc"))

    async def scenario():
        await audit.record(client, "a" * 5000, "note", "web:" + "b" * 5000, "c" * 5000)
        return await audit.latest(client)

    [entry] = run(scenario())
    assert max(len(entry["actor"]), len(entry["conversation_id"]),
               len(entry["detail"])) == audit.MAX_FIELD_CHARS


def test_the_cli_records_with_a_blocking_client_and_erasing_forgets_the_customer():
    client = fakeredis.FakeRedis()
    run(audit.record(client, "cli:ops", "export", "+221771234567", "to a file"))
    run(audit.record(client, "awa", "reply", "whatsapp:+221771234567"))
    run(audit.record(client, "awa", "reply", "web:other"))
    assert run(audit.forget(client, {"+221771234567", "whatsapp:+221771234567"})) == 2
    assert [e["conversation_id"] for e in run(audit.latest(client))] == ["web:other"]


# --- masking in what the desk shows ----------------------------------------------------------

def test_queue_cards_and_the_overview_show_phone_numbers_masked(store):  # noqa: F811
    async def scenario():
        await waiting(store, escalation("whatsapp:+221770000001", text=SAID))
        return await QueueView(store).run(AWA), await Overview(store).run()

    queue, overview = run(scenario())
    for line in (queue["waiting"][0], overview["live"][0]):
        assert NUMBER not in line["preview"] and MASKED_NUMBER in line["preview"]
        assert MASKED_NUMBER in line["last_message"]["text"]


def test_the_transcript_is_masked_and_only_the_holder_may_reveal_it(store):  # noqa: F811
    class Tracker:
        async def tracker(self, conversation_id):
            return {"events": [{"event": "user", "text": SAID, "timestamp": 1.0}]}

    conversation = "whatsapp:+221770000002"

    async def scenario():
        await waiting(store, escalation(conversation, language="fr", text=SAID))
        await store.ownership.assign(conversation, AWA.id, None)
        shown = await ConversationView(store, Tracker()).run(conversation, AWA)
        revealed = await RevealView(store, Tracker()).run(conversation, AWA)
        refusals = []
        for other in (FATOU, MUSA):
            try:
                await RevealView(store, Tracker()).run(conversation, other)
            except DeskError as refused:
                refusals.append(refused.status)
        return shown, revealed, refusals

    shown, revealed, refusals = run(scenario())
    assert shown["transcript"][0]["text"] == SAID.replace(NUMBER, MASKED_NUMBER)
    assert revealed["transcript"][0]["text"] == SAID
    assert {"kind": "phone", "text": NUMBER} in revealed["facts"]
    assert refusals == [403, 404]  # the supervisor holds it not; Musa may not even see it


def test_context_summary_facts_history_and_long_messages_are_masked():
    summary = {"wants": f"“{SAID}”", "tried": [f"Said: “call {NUMBER}”"], "why": [],
               "facts": [{"kind": "phone", "text": NUMBER}, {"kind": "amount", "text": "5000 F"},
                         {"kind": "phone", "text": "12345678"}]}
    shown = masked_summary(summary)
    assert NUMBER not in str(shown) and MASKED_NUMBER in shown["wants"]
    assert shown["facts"][1] == {"kind": "amount", "text": "5000 F"}
    assert shown["facts"][2]["text"] == "••••••78"  # not a number the detector knows
    assert masked_episode({"preview": SAID})["preview"] == SAID.replace(NUMBER, MASKED_NUMBER)
    assert masked_fact({"kind": "phone", "text": NUMBER})["text"] == MASKED_NUMBER
    far = "word " * 2000 + NUMBER  # past what the detector reads in one go
    assert NUMBER not in masked(far) and masked(far).endswith(MASKED_NUMBER)


def test_every_line_of_the_transcript_is_masked_not_only_the_customer_s():
    events = [{"event": "user", "text": SAID, "timestamp": 1.0},
              {"event": "bot", "text": f"Nous appelons le {NUMBER}", "timestamp": 2.0,
               "metadata": {"agent": "awa"}}]
    lines = masked_transcript(transcript(events))
    assert [NUMBER in line["text"] for line in lines] == [False, False]
    assert summaries.masked_preview(SAID) == SAID.replace(NUMBER, MASKED_NUMBER)


def test_the_cli_records_export_and_erase_by_its_user(monkeypatch, tmp_path, capsys):
    client = fakeredis.FakeRedis()
    monkeypatch.setattr(commands, "_client", lambda _url: client)
    monkeypatch.setattr(commands, "LOGS_DIR", tmp_path)
    monkeypatch.setattr(commands.getpass, "getuser", lambda: "ops")
    client.rpush(redis_keys.tracker_events("+221771234567"), '{"event": "user"}')
    run(audit.record(client, "awa", "reply", "whatsapp:+221771234567"))

    assert commands.run_export("+221771234567", str(tmp_path / "out.json")) == 0
    assert [(e["actor"], e["action"], e["conversation_id"]) for e in run(audit.latest(client))][
        0] == ("cli:ops", "export", "+221771234567")
    assert commands.run_erase("+221771234567", force=False, confirmed=True) == 0
    assert [(e["actor"], e["action"], e["conversation_id"])
            for e in run(audit.latest(client))] == [("cli:ops", "erase", "[erased]")]
    assert "scan of every key and value" in capsys.readouterr().out
