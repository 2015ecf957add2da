"""The desk for a real shift: the waiting list's priority, filters, search and counts, the
answer-timeout warning, supervisors, wrap-up codes and what the customer is told. Against an
in-memory Redis (fakeredis) and a Rasa server of the test's own."""

from __future__ import annotations

import asyncio
import json
import time

import fakeredis
import pytest

from teranga import redis_keys
from teranga.agent_desk import assignment
from teranga.agent_desk.desk import DeskError
from teranga.agent_desk.history import customer_key
from teranga.agent_desk.live import Connections, News
from teranga.agent_desk.maintenance import RequeueUnanswered, WarnUnanswered
from teranga.agent_desk.moves import Claim, HandBack, TakeOver, Transfer, wrap_up_of
from teranga.agent_desk.summaries import QueueFilter, short_id, transcript, waiting_in_order
from teranga.agent_desk.views import Overview, QueueView
from teranga.handoff.agents import Agent, AgentDirectory
from teranga.handoff.availability import DeskSettings, Presence, SettingsError, load_settings
from teranga.handoff.customer_notices import notice_text
from teranga.handoff.ownership import Owner, Ownership
from teranga.handoff.queue import Escalation, EscalationQueue
from teranga.handoff.records import ConversationRecord, ConversationRecords
from teranga.handoff.store import HandoffStore
from teranga.reloading import Reloading

AWA = Agent("awa", "Awa Diop", ["wo", "fr"])
MUSA = Agent("musa", "Musa Ali", ["ha", "en"])
FATOU = Agent("fatou", "Fatou Sall", ["wo", "fr", "en"], role="supervisor")


class FakeRasa:
    """Records what the desk asks of Rasa; `failing` makes sending to the customer fail."""

    def __init__(self) -> None:
        self.appended: list[tuple[str, list[dict], bool]] = []
        self.failing = False

    async def append(self, conversation_id, events, send=False):
        if send and self.failing:
            raise RuntimeError("the channel is down")
        self.appended.append((conversation_id, events, send))
        return {}

    async def trigger_intent(self, conversation_id, intent):
        return {}

    async def tracker(self, conversation_id):
        return {"events": [], "paused": False}

    def sent(self) -> list[tuple[str, str, dict]]:
        """(conversation, text, metadata) of what went out to customers."""
        return [(c, e["text"], e["metadata"]) for c, events, send in self.appended if send
                for e in events]


def escalation(conversation_id, language="wo", reasons=("not_understood",), since=1000.0,
               text="help", sentiment="neutral", channel="whatsapp", skill=None):
    return Escalation(conversation_id, channel, conversation_id, language, list(reasons),
                      sentiment={"label": sentiment, "score": 0.0}, skill=skill,
                      last_messages=[{"from": "customer", "text": text, "at": since}],
                      created_at=since)


@pytest.fixture
def store(tmp_path):
    directory = AgentDirectory(tmp_path / "agents.yml")
    for agent in (AWA, MUSA, FATOU):
        directory.add(agent)
    directory.save()
    settings = tmp_path / "settings.yml"
    settings.write_text("answer_timeout_seconds: 120\nanswer_warning_seconds: 30\n", "utf-8")
    client = fakeredis.aioredis.FakeRedis()
    return HandoffStore(client, Ownership(client), EscalationQueue(client),
                        ConversationRecords(client), Presence(client),
                        Reloading(lambda: directory.path, AgentDirectory),
                        Reloading(lambda: settings, load_settings))


async def waiting(store, *escalations):
    for number, item in enumerate(escalations):
        await store.records.add_entry(f"{number + 1}-0", item)
        assert await store.ownership.escalate(item.conversation_id)


async def notices(store) -> list[dict]:
    entries = await store.client.xrange(redis_keys.DESK_NOTICES)
    return [json.loads(fields[b"data"]) for _id, fields in entries]


# --- priority ---------------------------------------------------------------------------

def test_upset_customers_then_explicit_requests_then_the_bot_s_hand_overs():
    records = [ConversationRecord(e) for e in (
        escalation("old-fallback", reasons=["not_understood"], since=100.0),
        escalation("older-fallback", reasons=["repeated_fallback"], since=50.0),
        escalation("new-request", reasons=["asked_for_person"], since=900.0),
        # upset by the sentiment of their words, though they escalated by asking
        escalation("angry", language="fr", reasons=["asked_for_person"], since=800.0,
                   sentiment="negative"),
        escalation("callback", reasons=["not_understood", "callback_requested"], since=700.0))]
    order = [w.conversation_id for w in waiting_in_order(records, 60, now=1000.0)]
    assert order == ["angry", "callback", "new-request", "older-fallback", "old-fallback"]


def test_long_ids_are_shortened_in_the_middle():
    assert short_id("whatsapp:+221771234567") == "whatsapp:…1771234567"
    assert len(short_id("webchat:" + "x" * 200)) == 20
    assert short_id("tg:123") == "tg:123"


# --- the waiting list at its size -------------------------------------------------------

def test_the_list_filters_searches_counts_and_limits(store):
    async def scenario():
        await waiting(store,
                      escalation("whatsapp:+221771234567", reasons=["asked_for_person"],
                                 text="Dama bëgg wax ak nit", since=time.time() - 50),
                      escalation("webchat:" + "a1b2" * 10, language="fr",
                                 reasons=["negative_sentiment"], text="Mon transfert",
                                 channel="webchat", since=time.time() - 10),
                      escalation("telegram:99", language="ha", reasons=["not_understood"],
                                 text="Ina son magana", channel="telegram",
                                 skill="sunucash", since=time.time() - 90))
        # the customer wrote again after the escalation: the list shows it
        await store.last_messages.keep("whatsapp:+221771234567", "customer",
                                       "Sama wallet dafa tëj " + "!" * 300, time.time())
        view = QueueView(store)
        everything = await view.run(AWA)
        assert everything["waiting_total"] == 2  # Awa speaks wo and fr, not ha
        assert [s["conversation_id"] for s in everything["waiting"]] == [
            "webchat:" + "a1b2" * 10, "whatsapp:+221771234567"]
        assert [s["priority"] for s in everything["waiting"]] == [1, 2]
        assert everything["facets"]["language"] == {"wo": 1, "fr": 1}
        assert everything["facets"]["reason"] == {"asked_for_person": 1,
                                                  "negative_sentiment": 1}
        whatsapp = everything["waiting"][1]
        assert whatsapp["last_message"]["text"].startswith("Sama wallet dafa tëj")
        assert len(whatsapp["last_message"]["text"]) == 140
        assert whatsapp["short_id"] == "whatsapp:…1771234567"

        async def ids(agent=AWA, **narrow):
            limit = narrow.pop("limit", 200)
            result = await view.run(agent, QueueFilter(**narrow), limit)
            return [s["conversation_id"] for s in result["waiting"]], result

        assert (await ids(language="wo"))[0] == ["whatsapp:+221771234567"]
        assert (await ids(channel="webchat"))[0] == ["webchat:" + "a1b2" * 10]
        assert (await ids(reason="asked_for_person"))[0] == ["whatsapp:+221771234567"]
        assert (await ids(text="+221 77 123"))[0] == ["whatsapp:+221771234567"]  # digits
        assert (await ids(text="WALLET"))[0] == ["whatsapp:+221771234567"]  # newest message
        assert (await ids(text="a1B2a1"))[0] == ["webchat:" + "a1b2" * 10]  # the id
        assert (await ids(text="nothing like this"))[0] == []
        limited, result = await ids(limit=1)
        assert limited == ["webchat:" + "a1b2" * 10]
        assert result["waiting_matching"] == 2 and result["waiting_total"] == 2
        assert (await ids(MUSA, skill="sunucash"))[0] == ["telegram:99"]

    asyncio.run(scenario())


def test_the_list_reads_records_and_messages_in_one_round_trip(store):
    async def scenario():
        await waiting(store, *[escalation(f"c{i}", since=1000.0 + i) for i in range(50)])
        calls = []
        real_mget = store.client.mget

        async def counting_mget(*args, **kwargs):
            calls.append(len(args[0]))
            return await real_mget(*args, **kwargs)

        store.client.mget = counting_mget
        result = await QueueView(store).run(AWA)
        assert result["waiting_total"] == 50 and calls == [100]  # 50 records + 50 messages

    asyncio.run(scenario())


# --- the answer timeout -----------------------------------------------------------------

def test_the_holder_is_warned_once_before_the_timeout_whatever_the_desk_processes(store):
    async def scenario():
        rasa = FakeRasa()
        await waiting(store, escalation("c1"))
        await Claim(store, rasa).run("c1", AWA)  # by hand: the same clock
        due = await store.answer_due("c1")
        assert due == pytest.approx(time.time() + 120, abs=2)
        [mine] = (await QueueView(store).run(AWA))["mine"]
        assert mine["answer_due_at"] == due and mine["holder_name"] == "Awa Diop"
        assert await WarnUnanswered(store).run() == []  # not yet: 90 s before the warning
        await store.answer_warnings.add("c1", time.time() - 1)  # 30 s before the timeout
        warned = await asyncio.gather(WarnUnanswered(store).run(), WarnUnanswered(store).run())
        assert sorted(warned) == [[], ["c1"]]
        [warning] = [n for n in await notices(store) if n["kind"] == "answer_due_soon"]
        assert warning["agent"] == "awa" and warning["due_at"] == due
        assert await WarnUnanswered(store).run() == []

    asyncio.run(scenario())


def test_an_answered_conversation_is_not_warned_and_a_requeue_says_marked_away(store):
    async def scenario():
        rasa = FakeRasa()
        await waiting(store, escalation("c1"), escalation("c2"))
        for conversation_id in ("c1", "c2"):
            await Claim(store, rasa).run(conversation_id, AWA)
        await store.answer_not_expected("c1")  # Awa answered c1
        await store.answer_warnings.add("c1", time.time() - 1)  # a stale warning
        assert await WarnUnanswered(store).run() == []
        await store.awaiting_answer.add("c2", time.time() - 1)  # c2's time is up
        assert await RequeueUnanswered(store, rasa).run() == ["c2"]
        [requeued] = [n for n in await notices(store) if n["kind"] == "requeued"]
        assert requeued["marked_away"] is True and requeued["agent"] == "awa"
        assert not await store.status.available("awa")
        assert await store.answer_warnings.until(time.time() + 1000) == []
        told = [(c, m["teranga_notice"]) for c, _text, m in rasa.sent()]
        assert told[-1] == ("c2", "requeued")  # not left waiting for the agent who joined

    asyncio.run(scenario())


def test_the_customer_is_told_in_their_language_that_another_agent_will_answer():
    for language in ("fr", "en", "wo", "sw", "ha"):
        text = notice_text(language, "requeued")
        assert text and text != notice_text(language, "returned"), language


# --- supervisors ------------------------------------------------------------------------

def test_supervisors_are_never_available_and_take_over_held_or_waiting_chats(store,
                                                                            monkeypatch):
    monkeypatch.setattr(assignment, "notice_text",
                        lambda language, kind, **v: f"{language}:{kind}:{v.get('agent_name')}")

    async def scenario():
        rasa = FakeRasa()
        assert not await store.takes_conversations(FATOU)
        assert await store.takes_conversations(AWA)
        await waiting(store, escalation("held"), escalation("queued", language="ha"))
        await Claim(store, rasa).run("held", AWA)
        with pytest.raises(DeskError) as refused:
            await TakeOver(store, rasa).run("held", MUSA)
        assert refused.value.status == 403
        await TakeOver(store, rasa).run("held", FATOU)
        await TakeOver(store, rasa).run("queued", FATOU)
        assert await store.ownership.owner("held") == Owner.agent("fatou")
        assert await store.ownership.owner("queued") == Owner.agent("fatou")
        assert await store.answer_due("held") is None  # supervisors are not timed
        taken = [n for n in await notices(store) if n["kind"] == "assigned"]
        assert [(n["agent"], n.get("from_agent")) for n in taken] == [
            ("awa", None), ("fatou", "awa"), ("fatou", None)]
        assert [text for _c, text, _m in rasa.sent()] == [
            "wo:agent_joined:Awa Diop", "wo:agent_joined:Fatou Sall",
            "ha:agent_joined:Fatou Sall"]
        # a reassignment: the supervisor transfers a chat to an agent
        await Transfer(store, rasa).run("held", FATOU, to_agent="awa")
        last = (await notices(store))[-1]
        assert (last["kind"], last["agent"], last["from_agent"]) == ("assigned", "awa", "fatou")
        overview = await Overview(store).run()
        rows = {row["id"]: row for row in overview["agents"]}
        assert rows["fatou"]["status"] == "supervising" and not rows["fatou"]["available"]
        live = {s["conversation_id"]: s["holder_name"] for s in overview["live"]}
        assert live == {"held": "Awa Diop", "queued": "Fatou Sall"}

    asyncio.run(scenario())


# --- wrap-up and what the customer is told -------------------------------------------------

def test_wrap_up_codes_are_validated_in_the_settings(tmp_path):
    path = tmp_path / "settings.yml"
    path.write_text("answer_timeout_seconds: 60\n", "utf-8")
    codes = [c.code for c in load_settings(path).wrap_up_codes]
    assert codes == ["resolved", "needs_follow_up", "wrong_queue", "no_reply_from_customer",
                     "fraud_report"]
    assert load_settings(path).answer_warning_seconds == 30
    for broken in ("wrap_up_codes: resolved", "wrap_up_codes: [{code: Résolu, label: x}]",
                   "wrap_up_codes: [{code: a, label: ''}]",
                   "wrap_up_codes: [{code: a, label: A}, {code: a, label: B}]",
                   "wrap_up_codes: [{code: a}]", "answer_warning_seconds: -1"):
        path.write_text(broken, "utf-8")
        with pytest.raises(SettingsError):
            load_settings(path)
    path.write_text("wrap_up_codes: []", "utf-8")
    assert load_settings(path).wrap_up_codes == ()


def test_a_short_answer_timeout_alone_warns_halfway(tmp_path):
    """An operator who shortens the timeout below the default warning keeps a working desk
    (the settings file is read by every escalation: an error there stops them all)."""
    for text, warning in (("answer_timeout_seconds: 20\n", 10),
                          ("answer_timeout_seconds: 20\nanswer_warning_seconds: 30\n", 10),
                          ("answer_timeout_seconds: 20\nanswer_warning_seconds: 5\n", 5)):
        path = tmp_path / "settings.yml"
        path.write_text(text, "utf-8")
        assert load_settings(path).answer_warning_seconds == warning, text


def test_a_close_takes_only_a_known_code_and_a_few_short_tags():
    codes = DeskSettings().wrap_up_codes
    assert wrap_up_of({"wrap_up": "resolved", "tags": [" pin ", "pin", "sim  swap"]},
                      codes) == ("resolved", ["pin", "sim swap"])
    assert wrap_up_of({}, codes) == (None, [])
    for body in ({"wrap_up": "made_up"}, {"wrap_up": 3}, {"tags": "pin"}, {"tags": [1]},
                 {"tags": ["x" * 33]}, {"tags": [""]}, {"tags": list("abcdef")}):
        with pytest.raises(DeskError) as refused:
            wrap_up_of(body, codes)
        assert refused.value.status == 400, body


def test_a_close_keeps_its_wrap_up_and_the_customer_is_told_even_if_that_fails(store,
                                                                              monkeypatch):
    monkeypatch.setattr(assignment, "notice_text",
                        lambda language, kind, **v: None if language == "ha" else kind)

    async def scenario():
        rasa = FakeRasa()
        await waiting(store, escalation("c1"), escalation("c2"), escalation("c3", "ha"))
        for conversation_id in ("c1", "c2", "c3"):
            await Claim(store, rasa).run(conversation_id, FATOU if conversation_id == "c3"
                                         else AWA)
        await HandBack(store, rasa).run("c1", AWA, close=True, wrap_up="fraud_report",
                                        tags=["sim swap"])
        rasa.failing = True
        await HandBack(store, rasa).run("c2", AWA)  # the move stands
        await HandBack(store, rasa).run("c3", FATOU, close=True)  # no text: nothing sent
        record = await store.records.get("c1")
        assert (record.wrap_up, record.tags, record.closed_by) == ("fraud_report",
                                                                   ["sim swap"], "awa")
        assert (await store.ownership.owner("c2")).is_bot
        assert [(c, text) for c, text, _m in rasa.sent()] == [
            ("c1", "agent_joined"), ("c2", "agent_joined"), ("c1", "closed")]
        assert rasa.sent()[-1][2] == {"teranga_notice": "closed"}  # not the agent's typing
        [remembered] = await store.client.lrange(  # the customer's history has it
            redis_keys.customer_history(customer_key("c1")), 0, -1)
        remembered = json.loads(remembered)
        assert remembered["wrap_up"] == "fraud_report" and remembered["tags"] == ["sim swap"]

    asyncio.run(scenario())


def test_an_old_record_still_loads_and_notices_show_as_the_desk_s():
    old = json.dumps({"escalation": escalation("c1").__dict__, "entry_ids": ["1-0"],
                      "assigned_to": None, "assigned_at": None, "answered_at": None,
                      "requeues": [], "closed_at": None, "from_the_future": 1})
    record = ConversationRecord.from_json(old)
    assert record.wrap_up is None and record.tags == []
    lines = transcript([{"event": "bot", "text": "Awa joined", "timestamp": 1.0,
                         "metadata": {"teranga_notice": "agent_joined", "agent": "awa"}}])
    assert lines[0]["from"] == "system" and lines[0]["notice"] == "agent_joined"


def test_the_newest_message_is_kept_from_the_news_even_with_no_desk_open(store):
    async def scenario():
        await waiting(store, escalation("c1", text="first words"))
        news = News(store, Connections())

        async def event(**item):
            await news._deliver(redis_keys.EVENTS, {"conversation_id": "c1", "at": 5.0, **item})

        await event(event="user", text="EXTERNAL: handed_back", intent="handed_back")
        await event(event="bot", text="")
        line = (await QueueView(store).run(AWA))["waiting"][0]
        assert line["last_message"] == {"from": "customer", "text": "first words",
                                        "at": 1000.0}  # from the escalation
        await event(event="user", text="Am na problème", intent="inform")
        await event(event="bot", text="Maa ngi fi", agent="awa", at=6.0)
        line = (await QueueView(store).run(AWA))["waiting"][0]
        assert line["last_message"] == {"from": "agent", "text": "Maa ngi fi", "at": 6.0}
        await news._deliver(redis_keys.EVENTS, {"conversation_id": "never-escalated",
                                                "event": "user", "text": "hi", "at": 1.0})
        assert await store.client.get(store.last_messages.key("never-escalated")) is None

    asyncio.run(scenario())


def test_the_customer_reads_who_joined_in_their_own_language(store):
    async def scenario():
        rasa = FakeRasa()
        await waiting(store, escalation("c1", language="fr"))
        await Claim(store, rasa).run("c1", AWA)
        [(_c, text, metadata)] = rasa.sent()
        assert "Awa Diop" in text and metadata["teranga_notice"] == "agent_joined"

    asyncio.run(scenario())


def test_a_lagging_desk_process_never_puts_an_older_message_back(store):
    async def scenario():
        kept = store.last_messages
        await kept.keep("c1", "customer", "newer", 20.0)
        await kept.keep("c1", "customer", "older", 10.0)  # another process, behind
        newest = kept.parse(await store.client.get(kept.key("c1")))
        assert newest == {"from": "customer", "text": "newer", "at": 20.0}
        await kept.keep("c1", "agent", "newest", 30.0)
        assert kept.parse(await store.client.get(kept.key("c1")))["text"] == "newest"

    asyncio.run(scenario())


class RecordingSocket:
    def __init__(self) -> None:
        self.sent: list[dict] = []

    async def send(self, text: str) -> None:
        self.sent.append(json.loads(text))


def test_live_news_shows_personal_data_masked_as_the_lists_do(store):
    async def scenario():
        await waiting(store, escalation("c1"))
        socket = RecordingSocket()
        connections = Connections()
        connections.sockets[socket] = ("awa", "token")
        await News(store, connections)._deliver(redis_keys.EVENTS, {
            "conversation_id": "c1", "event": "user", "at": 5.0,
            "text": "sama numéro mooy 77 123 45 67"})
        [news] = socket.sent
        assert "77 123 45 67" not in news["text"] and "••" in news["text"]

    asyncio.run(scenario())
