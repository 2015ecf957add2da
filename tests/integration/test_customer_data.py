"""A customer's rights against a real Redis: the real modules write their keys (intake,
tracker, escalation, desk record, notes, history, delivery statuses, dead letters, web chat,
REST outbox), then export, erase and scan the whole database; retention purges an old
conversation and keeps a recent one and the aggregates.

The commands work on the production key prefix (`teranga:`), so these tests use it too and
remove every `teranga:*` key before and after (`database_url` says on which database)."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
import redis.asyncio as aioredis

from teranga import redis_keys
from teranga.agent_desk.events import EVENTS_STREAM, desk_view
from teranga.agent_desk.history import remember_episode
from teranga.agent_desk.notes import add_note
from teranga.channels import delivery_status, flood, options, whatsapp_window
from teranga.channels.dedupe import seen_key
from teranga.channels.delivery import DeadLetters
from teranga.channels.options import Option
from teranga.channels.ordered_queue import OrderedQueue
from teranga.channels.outbox import Outbox
from teranga.channels.widget import WebChatSessions, transcript
from teranga.conversation_ids import new_webchat_id
from teranga.customer_data import commands, retention
from teranga.customer_data.customer import customer_of
from teranga.customer_data.erase import HeldByAgent, erase, prove
from teranga.customer_data.export import export
from teranga.customer_data.retention import purge
from teranga.dialogue.event_log import EventLog
from teranga.handoff import satisfaction
from teranga.handoff.agents import Agent
from teranga.handoff.ownership import agent_owner
from teranga.handoff.queue import Escalation
from teranga.handoff.store import HandoffStore
from teranga.insights.facts import conversation_facts
from teranga.insights.metrics import summary
from teranga.insights.store import open_store
from teranga.privacy import audit

DAY = 86400
LIVE_SECONDS = 10  # a consumer that beat this recently is running (it beats every second)
DATABASES = 16  # Redis's default number of databases


@pytest.fixture
def database_url(real_redis_url) -> str:
    """The test database, unless the end-to-end tests' servers run on it (`make test` keeps
    them up until the session ends): their consumers would take these tests' queued messages
    and escalations. Then an empty database of the same server, used and emptied here."""
    client = redis.Redis.from_url(real_redis_url)
    if not client.zrangebyscore(f"{redis_keys.queue('intake')}:consumers",
                                time.time() - LIVE_SECONDS, "+inf"):
        return real_redis_url
    parts = urlsplit(real_redis_url)
    for number in range(DATABASES):
        url = urlunsplit(parts._replace(path=f"/{number}"))
        if url != real_redis_url and redis.Redis.from_url(url).dbsize() == 0:
            return url
    pytest.fail("the end-to-end servers run on the test database and no other is empty")


@pytest.fixture
def db(database_url):
    client = redis.Redis.from_url(database_url)
    _clear(client)
    yield client
    _clear(client)


def _clear(client: redis.Redis) -> None:
    keys = list(client.scan_iter(f"{redis_keys.PREFIX}:*", count=1000))
    if keys:
        client.delete(*keys)


def a_number() -> str:
    return "+22177" + "".join(random.choice("0123456789") for _ in range(7))


def conversation(sender_id: str, at: float, text: str, channel: str) -> list[dict]:
    return [{"event": "action", "name": "action_session_start", "timestamp": at - 1},
            {"event": "session_started", "timestamp": at - 1},
            {"event": "user", "text": text, "timestamp": at, "input_channel": channel,
             "parse_data": {"intent": {"name": "transfer_failed"}}},
            {"event": "bot", "text": "Your transfer will be checked.", "timestamp": at + 1}]


def keep_tracker(client: redis.Redis, sender_id: str, events: list[dict]) -> None:
    EventLog(client).save(sender_id, events, lambda event: event, None)


async def customer_writes(url: str, sender_id: str, channel: str, message_id: str,
                          text: str) -> None:
    """What the channels write when a customer's message comes in and is answered."""
    client = aioredis.Redis.from_url(url)
    try:
        intake = OrderedQueue(client, "intake")
        await intake.ensure_group()
        await intake.put(sender_id, {"channel": channel, "message_id": message_id,
                                     "text": text, "metadata": "{}"},
                         seen_key(channel, message_id), 3600)
        await flood.check(client, sender_id)
        await whatsapp_window.record_inbound(client, channel, sender_id)
        await options.remember(client, channel, sender_id, [Option("Yes", "/affirm")])
        await delivery_status.sent(client, sender_id, time.time(), f"SM{uuid.uuid4().hex}")
        await DeadLetters(client).add({"channel": channel, "recipient": sender_id,
                                       "text": "We could not reach you"})
        for event in conversation(sender_id, time.time(), text, channel):
            view = desk_view({**event, "sender_id": sender_id})
            if view:
                await client.xadd(EVENTS_STREAM, {"data": json.dumps(view)})
    finally:
        await client.close()


def escalation(sender_id: str, channel: str, text: str) -> Escalation:
    return Escalation(conversation_id=sender_id, channel=channel, customer=sender_id,
                      language="fr", reasons=["asked_for_human"],
                      last_messages=[{"from": "customer", "text": text, "at": time.time()}])


async def desk_handles(url: str, tmp_path, sender_id: str, channel: str, text: str,
                       close: bool = True) -> None:
    """Escalated, read by a desk (pending), assigned to Awa, a note, her reply, then closed
    and returned to the bot (unless `close` is False: she holds it)."""
    store = HandoffStore.from_url(url, tmp_path / "agents.yml", tmp_path / "settings.yml")
    awa = Agent("awa", "Awa Ndiaye", ["fr", "wo"])
    try:
        await store.queue.ensure_group()
        await store.ownership.escalate(sender_id)
        entry = await store.queue.publish(escalation(sender_id, channel, text))
        await store.queue.read_new("desk-1")  # pending until acknowledged
        await store.records.add_entry(entry, escalation(sender_id, channel, text))
        await store.notify("queued", sender_id, "fr", "queued")
        await store.last_messages.keep(sender_id, "customer", text, time.time())
        await store.awaiting_answer.add(sender_id, time.time() + 60)
        await store.ownership.assign(sender_id, "awa")
        record = await store.records.assigned(sender_id, "awa")
        await add_note(store, record, agent_owner("awa"), awa, f"calls back from {sender_id}")
        await store.record_satisfaction("awa", True)
        if close:
            record = await store.records.closed(sender_id, record.entry_ids, "refunded", [],
                                                "awa")
            await remember_episode(store, record, awa)
            await store.ownership.return_to_bot(sender_id, "awa")
    finally:
        await store.close()


def fill_phone_customer(db, url, tmp_path, number: str, close: bool = True) -> list[str]:
    """The customer's SMS and WhatsApp conversations, escalated; their dedupe keys."""
    sms, whatsapp = number, f"whatsapp:{number}"
    sms_message, whatsapp_message = f"SM{uuid.uuid4().hex}", f"SM{uuid.uuid4().hex}"
    now = time.time()
    keep_tracker(db, sms, conversation(sms, now, "mon transfert est bloqué", "twilio_sms"))
    keep_tracker(db, whatsapp, conversation(whatsapp, now, "toujours bloqué",
                                            "twilio_whatsapp"))
    asyncio.run(customer_writes(url, sms, "twilio_sms", sms_message,
                                "mon transfert est bloqué"))
    asyncio.run(customer_writes(url, whatsapp, "twilio_whatsapp", whatsapp_message,
                                "toujours bloqué"))
    asyncio.run(desk_handles(url, tmp_path, whatsapp, "twilio_whatsapp", "un humain svp",
                             close))
    return [seen_key("twilio_sms", sms_message), seen_key("twilio_whatsapp", whatsapp_message)]


def test_a_phone_number_is_exported_with_every_key_it_came_from(db, database_url, tmp_path):
    number = a_number()
    fill_phone_customer(db, database_url, tmp_path, number)

    document = export(db, customer_of(number.replace("77", " 77 ", 1)))

    assert document["conversation_ids"] == [number, f"whatsapp:{number}"]
    assert [e["text"] for e in document["conversations"][number]["events"]
            if e["event"] == "user"] == ["mon transfert est bloqué"]
    keys = document["keys"]
    assert keys[redis_keys.conversation_record(f"whatsapp:{number}")]["type"] == "string"
    notes = keys[redis_keys.conversation_notes(f"whatsapp:{number}")]["value"]
    assert notes[0]["text"] == f"calls back from whatsapp:{number}"
    history = keys[redis_keys.customer_history(f"phone:{number}")]["value"]
    assert history[0]["wrap_up"] == "refunded"
    assert redis_keys.delivery_status(number) in keys
    shared = document["shared_keys"]
    for stream in (redis_keys.queue("intake"), redis_keys.ESCALATIONS, redis_keys.EVENTS,
                   redis_keys.DESK_NOTICES, redis_keys.DEAD_LETTERS):
        assert shared.get(stream), stream
    json.dumps(document)  # machine-readable as it is


def test_erase_leaves_no_trace_and_keeps_others_and_aggregates(db, database_url, tmp_path):
    number, other = a_number(), a_number()
    dedupe_keys = fill_phone_customer(db, database_url, tmp_path, number)
    others_dedupe_keys = fill_phone_customer(db, database_url, tmp_path, other)
    before_other = prove(db, customer_of(other))

    erased = erase(db, customer_of(f"whatsapp:{number}"))

    proof = prove(db, customer_of(number))
    assert proof.clean, (proof.keys, proof.values)
    assert erased.keys and erased.entries
    assert db.exists(*dedupe_keys) == 0, "a provider's message id linked to the customer"
    assert db.exists(*others_dedupe_keys) == 2
    assert prove(db, customer_of(other)) == before_other, "another customer was touched"
    assert db.hgetall(redis_keys.SATISFACTION) == {b"awa:yes": b"2"}
    pending = db.xpending(redis_keys.ESCALATIONS, "desk")["pending"]
    assert pending == 1, "the other customer's escalation is still pending, ours is not"


def test_the_proof_finds_what_is_left(db, database_url, tmp_path):
    number = a_number()
    fill_phone_customer(db, database_url, tmp_path, number)
    db.set("teranga:elsewhere", f"write back to {number[1:]} tomorrow")  # not structured

    erase(db, customer_of(number))

    proof = prove(db, customer_of(number))
    assert not proof.clean and proof.values == {"teranga:elsewhere": 1}
    assert proof.summary(number) == f"0 keys, 1 values mention {number}"


def test_a_conversation_an_agent_holds_is_erased_only_when_forced(db, database_url,
                                                                   tmp_path):
    number = a_number()
    fill_phone_customer(db, database_url, tmp_path, number, close=False)

    with pytest.raises(HeldByAgent) as refused:
        erase(db, customer_of(number))
    assert "awa" in str(refused.value)
    assert db.exists(redis_keys.tracker_events(number)), "nothing erased when refused"

    erase(db, customer_of(number), force=True)
    assert prove(db, customer_of(number)).clean
    assert db.smembers(redis_keys.agent_conversations("awa")) == set()


async def web_and_rest_customers(url: str, web_id: str, rest_id: str) -> None:
    client = aioredis.Redis.from_url(url)
    try:
        await WebChatSessions(client).resume_or_issue(None)
        await client.set(redis_keys.webchat_session(web_id), "1")
        await transcript(client).put(web_id, {"from": "bot", "text": "Bonjour !"})
        await Outbox(client=client).put(rest_id, {"text": "ana's reply"})
        await Outbox(client=client).put("banana", {"text": "bananas for Diana"})
        intake = OrderedQueue(client, "intake")
        await intake.ensure_group()
        await intake.put(web_id, {"channel": "socketio", "message_id": f"{web_id}:abc12345",
                                  "text": "salut", "metadata": "{}"},
                         seen_key("socketio", f"{web_id}:abc12345"), 3600)
    finally:
        await client.close()


def test_web_chat_and_rest_ids_are_erased_exactly(db, database_url):
    web_id, rest_id = new_webchat_id(), "ana"
    asyncio.run(web_and_rest_customers(database_url, web_id, rest_id))

    erase(db, customer_of(web_id))
    erase(db, customer_of(rest_id))

    assert prove(db, customer_of(web_id)).clean
    assert prove(db, customer_of(rest_id)).clean
    assert not db.exists(seen_key("socketio", f"{web_id}:abc12345"))
    assert db.exists(redis_keys.OUTBOX + "banana"), "a longer id is someone else"


def test_retention_purges_the_old_and_keeps_the_recent_and_the_aggregates(db, database_url,
                                                                          monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 1)  # several passes over the database
    now = time.time()
    old, recent, half = a_number(), a_number(), a_number()
    keep_tracker(db, old, conversation(old, now - 400 * DAY, "vieux", "twilio_sms"))
    keep_tracker(db, "rest-old", conversation("rest-old", now - 366 * DAY, "old", "rest"))
    keep_tracker(db, recent, conversation(recent, now - 3 * DAY, "récent", "twilio_sms"))
    # one number, an old SMS conversation and a recent WhatsApp one: one customer, kept
    keep_tracker(db, half, conversation(half, now - 400 * DAY, "vieux", "twilio_sms"))
    keep_tracker(db, f"whatsapp:{half}", conversation(f"whatsapp:{half}", now - DAY, "hier",
                                                      "twilio_whatsapp"))
    asyncio.run(_satisfied(database_url))

    result = purge(db, retention_days=365, now=now)

    assert sorted(result.erased) == sorted([old, "rest-old"]) and result.kept_recent == 2
    assert prove(db, customer_of(old)).clean and prove(db, customer_of("rest-old")).clean
    assert EventLog(db).exists(recent) and EventLog(db).exists(half)
    assert db.hgetall(redis_keys.SATISFACTION) == {b"awa:no": b"1"}
    assert purge(db, retention_days=0, now=now + 1000 * DAY).erased == []


async def _satisfied(url: str) -> None:
    client = aioredis.Redis.from_url(url)
    try:
        await satisfaction.record(client, "awa", False)
    finally:
        await client.close()


@pytest.mark.parametrize("asked, ids", [
    ("+221 77 123 45 67", ("+221771234567", "whatsapp:+221771234567")),
    ("00254712345678", ("+254712345678", "whatsapp:+254712345678")),
    ("whatsapp:+2348012345678", ("+2348012345678", "whatsapp:+2348012345678")),
    ("telegram:42", ("telegram:42",)),
    ("rest-customer-1", ("rest-customer-1",)),
])
def test_a_customer_is_named_by_a_conversation_or_a_number(asked, ids):
    assert customer_of(asked).conversation_ids == ids


@pytest.mark.parametrize("asked", ["", " ", "+12", "x" * 300, "a b", "web:nothex", "é"])
def test_anything_else_is_refused_clearly(asked):
    with pytest.raises(ValueError):
        customer_of(asked)


def test_the_erase_command_exits_non_zero_when_something_remains(db, database_url,
                                                                 monkeypatch, capsys):
    number = a_number()
    keep_tracker(db, number, conversation(number, time.time(), "allo", "twilio_sms"))
    monkeypatch.setattr(commands, "LOGS_DIR", commands.LOGS_DIR / "none")
    assert commands.run_erase(number, False, True, database_url) == 0
    assert "0 keys, 0 values mention" in capsys.readouterr().out

    keep_tracker(db, number, conversation(number, time.time(), "allo", "twilio_sms"))
    db.set("teranga:elsewhere", number)
    monkeypatch.setattr("teranga.customer_data.commands.erase", lambda *a, **k: erase(
        db, customer_of("nobody")))
    assert commands.run_erase(number, False, True, database_url) == commands.EXIT_REMAINS


def test_the_erase_command_counts_the_audit_entries_it_removed(db, database_url,
                                                                monkeypatch, capsys):
    number = a_number()
    keep_tracker(db, number, conversation(number, time.time(), "allo", "twilio_sms"))
    for action in ("claim", "close"):
        asyncio.run(audit.record(db, "awa", action, f"whatsapp:{number}"))
    monkeypatch.setattr(commands, "LOGS_DIR", commands.LOGS_DIR / "none")

    assert commands.run_erase(number, False, True, database_url) == 0

    assert "2 audit entries about them removed" in capsys.readouterr().out
    assert [fields[b"conversation_id"] for _, fields in db.xrange(redis_keys.audit_log())] == [
        commands.ERASED_CUSTOMER.encode()]


def test_erase_removes_the_customer_from_the_analytics_store_and_proves_it(
        db, database_url, monkeypatch, capsys):
    number, other = a_number(), a_number()
    for who in (number, f"whatsapp:{number}", other):
        keep_tracker(db, who, conversation(who, time.time(), "allo", "twilio_sms"))
    analytics = open_store()
    for who in (number, f"whatsapp:{number}", other):
        analytics.save(who, conversation_facts(who, conversation(who, time.time(), "allo",
                                                                 "twilio_sms")))
    monkeypatch.setattr(commands, "LOGS_DIR", commands.LOGS_DIR / "none")

    assert commands.run_erase(number, False, True, database_url) == 0

    out = capsys.readouterr().out
    assert "2 conversation(s) removed from the analytics store" in out
    assert "analytics store: 0 conversation(s) of theirs" in out
    assert analytics.held_about([number, f"whatsapp:{number}"]) == 0
    assert analytics.held_about([other]) == 1


def test_the_purge_cuts_old_analytics_rows_from_their_customer_and_keeps_their_counts(
        db, database_url, capsys):
    now = time.time()
    old, recent = a_number(), a_number()
    analytics = open_store()
    for who, at in ((old, now - 400 * DAY), (recent, now - DAY)):
        analytics.save(who, conversation_facts(who, conversation(who, at, "allo", "twilio_sms")))
    before = summary(analytics)[0]["conversations"]

    assert commands.run_purge(365, database_url, now) == 0

    assert "1 older conversation(s) in the analytics store cut from their customer" in \
        capsys.readouterr().out
    assert analytics.held_about([old]) == 0 and analytics.held_about([recent]) == 1
    assert summary(analytics)[0]["conversations"] == before
