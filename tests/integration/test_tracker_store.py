"""The append-only tracker store against a real Redis, driven as Rasa drives it: through
Rasa's FailSafeTrackerStore and MessageProcessor's own session handling (a new session
runs Rasa's ActionSessionStart), on the project's domain, with a clock moved by days."""

from __future__ import annotations

import asyncio
import json
import time
from types import SimpleNamespace

import pytest
import redis
from rasa.core.brokers.broker import EventBroker
from rasa.core.channels import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import (
    FailSafeTrackerStore,
    RedisTrackerStore,
    TrackerStore,
    check_if_tracker_store_async,
)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import (
    DialogueStateTracker,
    get_trackers_for_conversation_sessions,
)
from rasa.utils.endpoints import read_endpoint_config

from addons.tracker_store import AppendOnlyTrackerStore
from teranga.dialogue.domain import build_domain
from teranga.dialogue.event_log import (
    ConversationChanged,
    EventLog,
    migrate_from_rasa,
    rasa_key_prefix,
    tracker_keys,
)
from teranga.languages import default_language
from teranga.settings import PROJECT_ROOT, rasa_environment

DAY = 86_400.0


class Clock:
    """time.time for Rasa's events and its session expiry."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Broker(EventBroker):
    def __init__(self) -> None:
        self.published: list[dict] = []

    def publish(self, event: dict) -> None:
        self.published.append(event)


def project_domain(carry_over_slots: bool = True) -> Domain:
    data = build_domain(PROJECT_ROOT / "domain", default_language(PROJECT_ROOT))
    data["session_config"]["carry_over_slots_to_new_session"] = carry_over_slots
    return Domain.from_dict(data)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(time, "time", clock)
    return clock


def make_store(url: str, prefix: str, domain: Domain, broker=None, **extra):
    endpoint = rasa_environment(url, "http://127.0.0.1:1")
    return AppendOnlyTrackerStore(domain, host=endpoint["TERANGA_REDIS_HOST"],
                                  port=endpoint["TERANGA_REDIS_PORT"],
                                  db=endpoint["TERANGA_REDIS_DB"],
                                  password=endpoint["TERANGA_REDIS_PASSWORD"],
                                  event_broker=broker, key_prefix=prefix, **extra)


def processor_for(store: TrackerStore, domain: Domain) -> MessageProcessor:
    """Rasa's MessageProcessor without a model: its session handling and saving are
    Rasa's own; the store is wrapped as Rasa's Agent wraps it."""
    processor = MessageProcessor.__new__(MessageProcessor)
    processor.domain = domain
    processor.tracker_store = FailSafeTrackerStore(store)
    processor.action_endpoint = None
    processor.nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    processor.model_metadata = SimpleNamespace(model_id="test", assistant_id="test")
    return processor


async def turn(processor: MessageProcessor, sender: str, text: str,
               slots: dict | None = None) -> DialogueStateTracker:
    """One customer message as Rasa handles it (the NLU and policy results given)."""
    tracker = await processor.fetch_tracker_and_update_session(sender,
                                                               CollectingOutputChannel())
    domain = processor.domain
    tracker.update(UserUttered(text, {"intent": {"name": "greet", "confidence": 0.9},
                                      "entities": [], "text": text}), domain)
    for name, value in (slots or {}).items():
        tracker.update(SlotSet(name, value), domain)
    tracker.update(ActionExecuted("utter_greet"), domain)
    tracker.update(BotUttered(f"re: {text}", metadata={"utter_action": "utter_greet"}), domain)
    tracker.update(ActionExecuted("action_listen"), domain)
    await processor.save_tracker(tracker)
    return tracker


async def returning_customer(processor, sender, clock, sessions=3):
    """`sessions` sessions, days apart: the language is set in the first, the sentiment
    in the second, the knowledge-base article in the last."""
    slots = [{"language": "wo"}, {"sentiment": "negative"}, {"kb_article": "sim-swap"}]
    for index in range(sessions):
        await turn(processor, sender, f"salaam {index}", slots[index % 3])
        clock.advance(30)
        await turn(processor, sender, f"jerejef {index}")
        clock.advance(3 * DAY)


def dicts(events) -> list[dict]:
    return [event.as_dict() for event in events]


def stored(client, prefix, sender) -> list[dict]:
    return [json.loads(raw) for raw in client.lrange(tracker_keys(prefix, sender)[0], 0, -1)]


@pytest.fixture
def domain() -> Domain:
    return project_domain()


def test_retrieve_reads_only_the_current_session_with_slots_carried_over(
        real_redis_url, client, prefix, sender, clock, domain):
    store = make_store(real_redis_url, prefix, domain)
    processor = processor_for(store, domain)

    async def scenario():
        await returning_customer(processor, sender, clock)
        clock.advance(-3 * DAY + 60)  # a minute after the last message: the same session
        return await processor.get_tracker(sender), await store.retrieve_full_tracker(sender)

    tracker, full = asyncio.run(scenario())

    sessions = get_trackers_for_conversation_sessions(full)
    assert len(sessions) == 3
    assert dicts(tracker.events) == dicts(sessions[-1].events)
    assert tracker.events[0].action_name == "action_session_start"
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == \
        ["salaam 2", "jerejef 2"]
    assert tracker.current_slot_values() == full.current_slot_values()
    assert (tracker.get_slot("language"), tracker.get_slot("sentiment"),
            tracker.get_slot("kb_article")) == ("wo", "negative", "sim-swap")
    session_index = int(client.get(tracker_keys(prefix, sender)[1]))
    assert stored(client, prefix, sender)[session_index]["name"] == "action_session_start"


@pytest.mark.parametrize("carry_over_slots", [True, False])
def test_a_new_session_after_the_expiry_keeps_slots_as_rasa_does(
        real_redis_url, prefix, sender, clock, carry_over_slots):
    domain = project_domain(carry_over_slots)
    store = make_store(real_redis_url, prefix, domain)
    processor = processor_for(store, domain)

    async def scenario():
        await turn(processor, sender, "salaam", {"language": "wo", "sentiment": "positive"})
        clock.advance(domain.session_config.session_expiration_time * 60 + 1)
        tracker = await turn(processor, sender, "nanga def")
        return tracker, await store.retrieve(sender), await store.retrieve_full_tracker(sender)

    tracker, retrieved, full = asyncio.run(scenario())

    assert sum(isinstance(e, SessionStarted) for e in retrieved.events) == 1
    assert sum(isinstance(e, SessionStarted) for e in full.events) == 2
    assert [e.text for e in retrieved.events if isinstance(e, UserUttered)] == ["nanga def"]
    assert retrieved.current_slot_values() == full.current_slot_values() == \
        tracker.current_slot_values()
    assert retrieved.get_slot("language") == ("wo" if carry_over_slots else None)


def test_save_appends_only_the_new_events(real_redis_url, client, prefix, sender, clock,
                                          domain):
    store = make_store(real_redis_url, prefix, domain)
    processor = processor_for(store, domain)
    events_key = tracker_keys(prefix, sender)[0]
    asyncio.run(returning_customer(processor, sender, clock, sessions=2))
    before = client.lrange(events_key, 0, -1)

    async def scenario():
        tracker = await processor.get_tracker(sender)
        # changed behind the store's back: a rewrite would put it back, an append cannot
        client.lset(events_key, 0, b"untouched")
        tracker.update(UserUttered("ok"), domain)
        tracker.update(ActionExecuted("action_listen"), domain)
        await processor.save_tracker(tracker)
        await processor.save_tracker(tracker)  # nothing new: nothing written

    asyncio.run(scenario())

    after = client.lrange(events_key, 0, -1)
    assert len(after) == len(before) + 2
    assert after[0] == b"untouched"
    assert after[1:len(before)] == before[1:]
    assert [json.loads(raw)["event"] for raw in after[len(before):]] == ["user", "action"]


def test_the_broker_gets_each_new_event_exactly_once(real_redis_url, client, prefix, sender,
                                                     clock, domain):
    broker = Broker()
    store = make_store(real_redis_url, prefix, domain, broker)
    processor = processor_for(store, domain)

    async def scenario():
        await returning_customer(processor, sender, clock)
        await processor.save_tracker(await processor.get_tracker(sender))

    asyncio.run(scenario())

    everything = stored(client, prefix, sender)
    assert len(everything) > 30
    assert broker.published == [{"sender_id": sender, **event} for event in everything]


def test_the_full_tracker_has_every_session(real_redis_url, prefix, sender, clock, domain):
    store = make_store(real_redis_url, prefix, domain)
    processor = processor_for(store, domain)

    async def scenario():
        await returning_customer(processor, sender, clock, sessions=4)
        return await processor.tracker_store.retrieve_full_tracker(sender)

    full = asyncio.run(scenario())

    assert [e.text for e in full.events if isinstance(e, UserUttered)] == \
        [f"{word} {i}" for i in range(4) for word in ("salaam", "jerejef")]
    assert len(get_trackers_for_conversation_sessions(full)) == 4


def test_replacing_the_events_rewrites_the_conversation(real_redis_url, client, prefix,
                                                        sender, clock, domain):
    broker = Broker()
    store = make_store(real_redis_url, prefix, domain, broker)
    processor = processor_for(store, domain)
    asyncio.run(returning_customer(processor, sender, clock))
    full = asyncio.run(store.retrieve_full_tracker(sender))
    # what `PUT /conversations/<id>/tracker/events` saves: a tracker built from the body
    kept = dicts(full.events)[:-4] + [BotUttered("corrected").as_dict()]
    broker.published.clear()

    asyncio.run(store.save(DialogueStateTracker.from_dict(sender, kept, domain.slots)))

    assert stored(client, prefix, sender) == kept
    assert broker.published == [{"sender_id": sender, **kept[-1]}]
    last_start = max(i for i, e in enumerate(kept) if e["event"] == "session_started") - 1
    assert int(client.get(tracker_keys(prefix, sender)[1])) == last_start
    assert dicts(asyncio.run(store.retrieve(sender)).events) == kept[last_start:]

    first_session = kept[:3]  # action_session_start, session_started, action_listen
    asyncio.run(store.save(DialogueStateTracker.from_dict(sender, first_session,
                                                          domain.slots)))
    assert stored(client, prefix, sender) == first_session
    assert dicts(asyncio.run(store.retrieve(sender)).events) == first_session


def test_keys_exists_and_expiry(real_redis_url, client, prefix, clock, domain):
    store = make_store(real_redis_url, prefix, domain, record_exp=3600)
    processor = processor_for(store, domain)
    senders = ["whatsapp:+221770000000", "rest:a*b?[c]", "telegram:42"]

    async def scenario():
        for sender in senders:
            await turn(processor, sender, "salaam")
        return (await processor.tracker_store.keys(), await store.exists(senders[1]),
                await store.exists("rest:a"))

    keys, exists, not_exists = asyncio.run(scenario())

    assert sorted(keys) == sorted(senders)
    assert exists and not not_exists
    for key in tracker_keys(prefix, senders[0]):
        assert 0 < client.ttl(key) <= 3600


def test_rasa_builds_it_from_endpoints_yml(real_redis_url, monkeypatch, domain):
    for name, value in rasa_environment(real_redis_url, "http://127.0.0.1:1").items():
        monkeypatch.setenv(name, value)
    config = read_endpoint_config(str(PROJECT_ROOT / "endpoints.yml"), "tracker_store")
    broker = Broker()

    store = TrackerStore.create(config, domain, broker)

    assert type(store) is AppendOnlyTrackerStore  # not wrapped: every method is async
    assert check_if_tracker_store_async(store)
    assert store.key_prefix == "teranga" and store.event_broker is broker
    assert str(store.red.connection_pool.connection_kwargs["db"]) == \
        real_redis_url.rsplit("/", 1)[1]
    assert store.red.ping()


def test_migration_from_rasas_redis_store(real_redis_url, client, prefix, sender,
                                          clock, domain):
    endpoint = rasa_environment(real_redis_url, "http://127.0.0.1:1")
    rasa = RedisTrackerStore(domain, host=endpoint["TERANGA_REDIS_HOST"],
                             port=endpoint["TERANGA_REDIS_PORT"],
                             db=endpoint["TERANGA_REDIS_DB"], key_prefix=prefix,
                             record_exp=7200)
    other = f"{sender}:other"

    async def written_by_rasa():
        await returning_customer(processor_for(rasa, domain), sender, clock)
        await turn(processor_for(rasa, domain), other, "salut")

    asyncio.run(written_by_rasa())
    old_key = rasa_key_prefix(prefix) + sender
    assert client.exists(old_key)  # the prefix Rasa really uses
    store = make_store(real_redis_url, prefix, domain)

    first = migrate_from_rasa(client, prefix)

    assert (first.found, first.migrated, first.already, first.deleted) == (2, 2, 0, 0)

    async def compare(conversation):
        for read in ("retrieve_full_tracker", "retrieve"):
            ours = await getattr(store, read)(conversation)
            theirs = await getattr(rasa, read)(conversation)
            assert dicts(ours.events) == dicts(theirs.events)
            assert ours.current_slot_values() == theirs.current_slot_values()

    for conversation in (sender, other):
        asyncio.run(compare(conversation))
    assert first.events == len(stored(client, prefix, sender)) + \
        len(stored(client, prefix, other))
    assert 0 < client.ttl(tracker_keys(prefix, sender)[0]) <= 7200
    snapshot = {key: client.dump(key) for key in client.scan_iter(f"{prefix}:*")}

    second = migrate_from_rasa(client, prefix)

    assert (second.migrated, second.already, second.differing, second.deleted) == (0, 2, 0, 0)
    assert {key: client.dump(key) for key in client.scan_iter(f"{prefix}:*")} == snapshot

    asyncio.run(turn(processor_for(store, domain), sender, "dama am laaj"))  # goes on here
    third = migrate_from_rasa(client, prefix, delete_old=True)
    assert (third.migrated, third.already, third.deleted) == (0, 2, 2)
    assert not client.exists(old_key)
    texts = [e.text for e in asyncio.run(store.retrieve(sender)).events
             if isinstance(e, UserUttered)]
    assert texts[-1] == "dama am laaj"


def test_a_conversation_left_in_rasas_layout_is_moved_on_its_first_read(
        real_redis_url, client, prefix, sender, clock, domain):
    """An upgrade where nobody ran `teranga trackers migrate`: the returning customer's
    history is still there."""
    endpoint = rasa_environment(real_redis_url, "http://127.0.0.1:1")
    rasa = RedisTrackerStore(domain, host=endpoint["TERANGA_REDIS_HOST"],
                             port=endpoint["TERANGA_REDIS_PORT"],
                             db=endpoint["TERANGA_REDIS_DB"], key_prefix=prefix)
    asyncio.run(returning_customer(processor_for(rasa, domain), sender, clock))
    store = make_store(real_redis_url, prefix, domain)

    ours = asyncio.run(store.retrieve_full_tracker(sender))

    theirs = asyncio.run(rasa.retrieve_full_tracker(sender))
    assert ours is not None and dicts(ours.events) == dicts(theirs.events)
    asyncio.run(turn(processor_for(store, domain), sender, "dama am laaj"))
    assert len(stored(client, prefix, sender)) > len(theirs.events)
    assert asyncio.run(store.retrieve("never-seen")) is None


def test_a_write_by_someone_else_fails_the_save(real_redis_url, client, prefix, sender,
                                                clock, domain):
    """The MULTI is watched: a concurrent writer is an error, never a lost write."""

    class Intruded(EventLog):
        def _plan(self, pipe, *args):
            plan = super()._plan(pipe, *args)
            client.rpush(tracker_keys(prefix, sender)[0],
                         json.dumps(ActionExecuted("action_listen").as_dict()))
            return plan

    store = make_store(real_redis_url, prefix, domain)
    asyncio.run(turn(processor_for(store, domain), sender, "salaam"))
    store.log.__class__ = Intruded
    tracker = asyncio.run(store.retrieve(sender))
    tracker.update(UserUttered("ok"), domain)

    with pytest.raises(redis.WatchError):
        asyncio.run(store.save(tracker))


def test_a_writer_whose_read_is_stale_does_not_write_over_a_later_turn(
        real_redis_url, client, prefix, sender, clock, domain):
    """Two turns of one conversation at once (a process that lost its lock to another while
    Redis failed over): the one that read before the other's save wrote over it, and a
    customer's message vanished from the conversation (bench/cluster.py, a master's host cut
    off). Now its save fails (a WatchError: its turn is tried again) and nothing is lost."""
    store = make_store(real_redis_url, prefix, domain)
    asyncio.run(turn(processor_for(store, domain), sender, "salaam"))
    stale = asyncio.run(store.retrieve(sender))
    asyncio.run(turn(processor_for(store, domain), sender, "jerejef"))
    before = stored(client, prefix, sender)
    stale.update(UserUttered("ok"), domain)

    with pytest.raises(ConversationChanged):
        asyncio.run(store.save(stale))
    assert stored(client, prefix, sender) == before


def test_a_redis_that_stops_answering_fails_the_read_instead_of_hanging(tmp_path):
    """A Redis host that vanishes sends no reset, only silence: without a timeout the
    tracker store's client waited for ever, holding the conversation's turn."""
    import os
    import signal
    import subprocess

    from teranga import runtime

    port = runtime.free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                               "--save", "", "--dir", str(tmp_path)],
                              stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                redis.Redis(port=port).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        store = AppendOnlyTrackerStore(project_domain(), port=port, socket_timeout=0.5)
        assert asyncio.run(store.retrieve("whatsapp:+221770000002")) is None
        os.kill(server.pid, signal.SIGSTOP)
        started = time.monotonic()
        with pytest.raises(redis.TimeoutError):
            asyncio.run(store.retrieve("whatsapp:+221770000002"))
        assert time.monotonic() - started < 5
    finally:
        os.kill(server.pid, signal.SIGCONT)
        server.kill()
        server.wait()
