"""The desk's context routes against the real Redis test database: a conversation's summary,
the customer's earlier conversations, agents' notes (and their notices), and the knowledge
base's suggestions from a small knowledge base. The Sanic app is served in this process
with a stand-in for Rasa's tracker (no Rasa server)."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
import requests

from teranga import redis_keys
from teranga.agent_desk.app import create_app
from teranga.agent_desk.auth import Sessions
from teranga.agent_desk.desk import Desk
from teranga.agent_desk.history import HISTORY_LENGTH, customer_key, remember_episode
from teranga.agent_desk.notes import MAX_NOTES
from teranga.agent_desk.rasa_api import RasaUnavailable
from teranga.handoff.agents import Agent, AgentDirectory, hash_password
from teranga.handoff.queue import Escalation
from teranga.handoff.records import CLOSED_RECORD_SECONDS
from teranga.handoff.store import HandoffStore
from teranga.knowledge_base.service import KbSettings, KnowledgeBase
from teranga.settings import Settings
from tests.running_app import RunningApp

pytestmark = pytest.mark.usefixtures("several_apps")

PASSWORD = "correct horse battery"
# No end-to-end or other integration test uses these ids.
FRENCH, ENGLISH, SUPERVISOR = "ctx-binta", "ctx-otieno", "ctx-mariama"
PHONE = "+22177" + str(uuid.uuid4().int)[:7]  # this run's customer
KB_ARTICLES = ("en/failed-transfer.md", "fr/failed-transfer.md", "en/reset-pin.md",
               "fr/reset-pin.md", "fr/check-balance.md", "en/roaming.md")


class TrackerOnly:
    """Rasa's API as the context routes use it: the tracker, or Rasa down."""

    def __init__(self) -> None:
        self.events: dict[str, list] = {}
        self.down = False

    async def tracker(self, conversation_id: str) -> dict:
        if self.down:
            raise RasaUnavailable("Rasa did not answer (test)")
        return {"sender_id": conversation_id, "events": self.events.get(conversation_id, [])}

    async def close(self) -> None:
        pass


class RunningDesk(RunningApp):
    def session(self, agent_id: str) -> requests.Session:
        browser = requests.Session()
        browser.headers["Origin"] = self.url
        reply = browser.post(f"{self.url}/login", data={"agent": agent_id, "password": PASSWORD},
                             allow_redirects=False, timeout=10)
        assert reply.status_code == 302, reply.text
        return browser


@pytest.fixture(scope="module")
def agents_file(tmp_path_factory) -> Path:
    directory = AgentDirectory(tmp_path_factory.mktemp("desk") / "agents.yml")
    for agent in (Agent(FRENCH, "Binta Sow", ["fr", "wo"]), Agent(ENGLISH, "Otieno K.", ["en"]),
                  Agent(SUPERVISOR, "Mariama Ba", ["fr"], role="supervisor")):
        directory.add(Agent(**{**agent.__dict__, "password_hash": hash_password(PASSWORD)}))
    directory.save()
    return directory.path


@pytest.fixture(scope="module")
def kb_env(tmp_path_factory) -> dict[str, str]:
    """A small knowledge base and its own index folder, as `teranga demo` gives them."""
    root = tmp_path_factory.mktemp("kb")
    for name in KB_ARTICLES:
        (root / "kb" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path("kb") / name, root / "kb" / name)
    return {"TERANGA_KB_DIR": str(root / "kb"), "TERANGA_KB_INDEX_DIR": str(root / "index")}


@pytest.fixture
def conversations(real_redis_url):
    """Makes escalated conversations (removed afterwards with their notes and history)."""
    made: list[str] = []
    client = redis.Redis.from_url(real_redis_url)

    def make(conversation_id: str, language: str = "fr", owner: str | None = None,
             **escalation) -> str:
        async def create():
            store = HandoffStore.from_url(real_redis_url, Path("unused"), Path("unused"))
            fields = {"conversation_id": conversation_id, "channel": "twilio_whatsapp",
                      "customer": conversation_id, "language": language,
                      "reasons": ["asked_for_person"], "created_at": time.time() - 60,
                      "last_messages": [{"from": "customer", "at": time.time() - 61,
                                         "text": "J'ai envoyé 5000 F au 77 123 45 67"}],
                      **escalation}
            await store.records.add_entry(f"0-{uuid.uuid4().int % 10**9}", Escalation(**fields))
            await store.ownership.escalate(conversation_id)
            if owner:
                await store.ownership.assign(conversation_id, owner, None)
            await store.close()

        asyncio.run(create())
        made.append(conversation_id)
        return conversation_id

    yield make
    for conversation_id in made:
        client.delete(redis_keys.conversation_record(conversation_id),
                      redis_keys.owner(conversation_id),
                      redis_keys.conversation_notes(conversation_id),
                      redis_keys.customer_history(customer_key(conversation_id)))
        client.zrem(redis_keys.queued(), conversation_id)
    for agent_id in (FRENCH, ENGLISH, SUPERVISOR):
        client.delete(redis_keys.agent_conversations(agent_id))


@pytest.fixture
def rasa() -> TrackerOnly:
    return TrackerOnly()


@pytest.fixture
def make_desk(real_redis_url, prefix, agents_file, rasa):
    running = []

    def make() -> RunningDesk:
        import redis.asyncio as aioredis

        settings = Settings.from_env()
        store = HandoffStore.from_url(real_redis_url, agents_file, settings.desk_settings_file)
        sessions = Sessions(aioredis.Redis.from_url(real_redis_url), prefix)
        desk = RunningDesk(create_app(Desk(store, rasa, "context-tests"), sessions, set()))
        running.append(desk)
        return desk

    yield make
    for desk in running:
        desk.app.ctx.knowledge_base.stop()


@pytest.fixture
def desk(make_desk):
    with make_desk() as running:
        yield running


def url(desk: RunningDesk, conversation_id: str, route: str) -> str:
    return f"{desk.url}/api/conversations/{quote(conversation_id, safe='')}/{route}"


def user(text: str, intent: str, confidence: float, at: float) -> dict:
    return {"event": "user", "text": text, "timestamp": at,
            "parse_data": {"intent": {"name": intent, "confidence": confidence}}}


# --- context: summary, history, notes ------------------------------------------------------

def test_the_context_summarises_the_conversation_from_the_tracker(desk, conversations, rasa):
    conversation = conversations(f"whatsapp:{PHONE}", reasons=["negative_sentiment"],
                                 sentiment={"label": "negative", "score": -0.8})
    now = time.time()
    rasa.events[conversation] = [
        user("Bonjour", "greet", 0.99, now - 90),
        user("J'ai envoyé 5 000 FCFA au 77 123 45 67 hier, réf MP240315.1234.A12345, rien",
             "transfer_failed", 0.91, now - 80),
        {"event": "bot", "text": "D'après notre article « Transfert échoué » : ...",
         "timestamp": now - 79, "metadata": {"utter_action": "utter_kb_answer"}}]
    reply = desk.session(FRENCH).get(url(desk, conversation, "context"), timeout=10)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["summary"] == {
        "wants": "A money transfer that failed: “J'ai envoyé 5 000 FCFA au 77 ••• •• 67 hier, "
                 "réf MP240315.1234.A12345, rien”",
        "tried": ["Answered from the knowledge base: Transfert échoué"],
        "why": ["The customer is upset or complained (sentiment -0.80)"],
        "facts": [{"kind": "amount", "text": "5 000 FCFA"},
                  {"kind": "phone", "text": "77 ••• •• 67"}, {"kind": "date", "text": "hier"},
                  {"kind": "transaction_id", "text": "MP240315.1234.A12345"}]}
    assert body["history"] == [] and body["notes"] == []


def test_without_rasa_the_record_stands_in(desk, conversations, rasa):
    conversation = conversations(f"web:{uuid.uuid4().hex}")
    rasa.down = True
    reply = desk.session(FRENCH).get(url(desk, conversation, "context"), timeout=10)
    assert reply.status_code == 200, reply.text
    assert reply.json()["summary"]["facts"] == [{"kind": "amount", "text": "5000 F"},
                                                {"kind": "phone", "text": "77 ••• •• 67"}]


def test_history_joins_sms_and_whatsapp_newest_first_without_the_open_one(
        desk, conversations, real_redis_url):
    sms = conversations(PHONE, reasons=["voice_note"], channel="twilio_sms")
    telegram = conversations("telegram:99" + str(uuid.uuid4().int)[:8])

    async def close_episodes():
        store = HandoffStore.from_url(real_redis_url, Path("unused"), Path("unused"))
        record = await store.records.get(sms)
        record.closed_at = time.time()
        await remember_episode(store, record, Agent("awa", "Awa Diop", ["fr"]))
        await remember_episode(store, record, Agent("awa", "Awa Diop", ["fr"]))  # once only
        await remember_episode(store, await store.records.get(telegram), None)
        await store.close()

    asyncio.run(close_episodes())
    whatsapp = conversations(f"whatsapp:{PHONE}")
    history = desk.session(FRENCH).get(url(desk, whatsapp, "context"), timeout=10).json()[
        "history"]
    assert [(h["conversation_id"], h["channel"], h["agent_name"], h["reasons"])
            for h in history] == [(sms, "twilio_sms", "Awa Diop", ["voice_note"])]
    assert history[0]["preview"] == "“J'ai envoyé 5000 F au 77 ••• •• 67”"
    assert set(history[0]) == {"conversation_id", "channel", "started_at", "closed_at",
                               "agent_name", "wrap_up", "tags", "reasons", "preview"}
    # the SMS conversation's own episode is not its own history while it is open again...
    assert desk.session(FRENCH).get(url(desk, sms, "context"), timeout=10).json()[
        "history"] == []  # (same escalation record: the episode is the current one)
    # ...and Telegram stands alone
    assert desk.session(FRENCH).get(url(desk, telegram, "context"), timeout=10).json()[
        "history"] == []


def test_history_is_capped_and_expires(conversations, real_redis_url):
    conversation = conversations(PHONE)

    async def many_episodes():
        store = HandoffStore.from_url(real_redis_url, Path("unused"), Path("unused"))
        record = await store.records.get(conversation)
        for index in range(HISTORY_LENGTH + 5):
            record.escalation.created_at = 1000.0 + index
            await remember_episode(store, record, "Awa")
        await store.close()

    asyncio.run(many_episodes())
    client = redis.Redis.from_url(real_redis_url)
    key = redis_keys.customer_history(customer_key(conversation))
    kept = [json.loads(e)["started_at"] for e in client.lrange(key, 0, -1)]
    assert kept == [1000.0 + i for i in reversed(range(5, HISTORY_LENGTH + 5))]
    assert 89 * 86400 < client.ttl(key) <= 90 * 86400


def test_notes_are_stored_shown_and_announced(desk, conversations, real_redis_url):
    conversation = conversations(f"telegram:{uuid.uuid4().int % 10**9}")
    client = redis.Redis.from_url(real_redis_url)
    before = client.xrevrange(redis_keys.DESK_NOTICES, count=1)
    agent = desk.session(FRENCH)
    reply = agent.post(url(desk, conversation, "notes"),
                       json={"text": "  Client rappelé,\n attend l'agence de Thiès  "},
                       timeout=10)
    assert reply.status_code == 200, reply.text
    note = reply.json()["note"]
    assert (note["agent"], note["name"], note["text"]) == (
        FRENCH, "Binta Sow", "Client rappelé,\nattend l'agence de Thiès")
    supervisor = desk.session(SUPERVISOR)
    assert supervisor.get(url(desk, conversation, "context"), timeout=10).json()[
        "notes"] == [note]
    notices = client.xrange(redis_keys.DESK_NOTICES,
                            min=f"({before[0][0].decode()}" if before else "-")
    announced = [json.loads(fields[b"data"]) for _id, fields in notices]
    assert [(n["kind"], n["conversation_id"], n["owner"], n["text"], n["name"])
            for n in announced if n["conversation_id"] == conversation] == [
        ("note", conversation, "queued", note["text"], "Binta Sow")]
    key = redis_keys.conversation_notes(conversation)
    assert client.ttl(key) == -1  # open: kept like its record

    async def close():
        store = HandoffStore.from_url(real_redis_url, Path("unused"), Path("unused"))
        await remember_episode(store, await store.records.get(conversation), "Binta Sow")
        await store.close()

    asyncio.run(close())
    assert CLOSED_RECORD_SECONDS - 60 < client.ttl(key) <= CLOSED_RECORD_SECONDS


@pytest.mark.parametrize(("body", "status"), [
    ({"text": ""}, 400), ({"text": " \n\t "}, 400), ({"text": 5}, 400), ({}, 400),
    ({"text": "x" * 1001}, 400), ([1, 2], 400), ("not json", 400)])
def test_bad_notes_are_refused(desk, conversations, body, status):
    conversation = conversations(f"web:{uuid.uuid4().hex}")
    agent = desk.session(FRENCH)
    kwargs = {"data": body} if isinstance(body, str) else {"json": body}
    reply = agent.post(url(desk, conversation, "notes"), timeout=10, **kwargs)
    assert reply.status_code == status and "error" in reply.json()


def test_notes_are_capped(desk, conversations, real_redis_url):
    conversation = conversations(f"web:{uuid.uuid4().hex}")
    redis.Redis.from_url(real_redis_url).rpush(
        redis_keys.conversation_notes(conversation),
        *[json.dumps({"id": str(i), "text": "old"}) for i in range(MAX_NOTES)])
    reply = desk.session(FRENCH).post(url(desk, conversation, "notes"), json={"text": "one more"},
                                      timeout=10)
    assert reply.status_code == 409, reply.text


def test_only_those_who_may_see_a_conversation_read_or_write_its_context(desk, conversations):
    french_waiting = conversations(f"web:{uuid.uuid4().hex}")
    held_by_french = conversations(f"web:{uuid.uuid4().hex}", owner=FRENCH)
    english = desk.session(ENGLISH)
    for conversation in (french_waiting, held_by_french):
        for route in ("context", "suggestions"):
            assert english.get(url(desk, conversation, route), timeout=10).status_code == 404
        assert english.post(url(desk, conversation, "notes"), json={"text": "hi"},
                            timeout=10).status_code == 404
    for bad in ("no-such-conversation", "x" * 200, "a b", "%00", "é"):
        assert english.get(url(desk, bad, "context"), timeout=10).status_code == 404
    assert requests.get(url(desk, french_waiting, "context"), timeout=10).status_code == 401
    assert requests.post(url(desk, french_waiting, "notes"), json={"text": "x"},
                         headers={"Origin": "https://evil.example"},
                         timeout=10).status_code == 403


# --- suggestions ----------------------------------------------------------------------------

def first_suggestions(agent: requests.Session, address: str, wait: float = 300):
    """The first answer of a desk whose knowledge base is still loading: it says so (503,
    "still loading") rather than keep the agent waiting; the agent asks again."""
    deadline = time.monotonic() + wait
    while True:
        reply = agent.get(address, timeout=wait)
        if reply.status_code != 503 or time.monotonic() > deadline:
            return reply
        assert "still loading" in reply.json()["error"], reply.text
        time.sleep(1)


def test_suggestions_come_from_the_knowledge_base_in_the_customers_language(
        make_desk, conversations, rasa, kb_env, monkeypatch, capsys):
    for name, value in kb_env.items():
        monkeypatch.setenv(name, value)
    conversation = conversations(f"whatsapp:{PHONE}")
    rasa.events[conversation] = [
        user("Mon transfert SunuCash a échoué et l'argent n'est pas revenu", "transfer_failed",
             0.9, time.time())]
    timings = {}
    for start in ("cold", "warm"):  # no index yet; then the one the action server built
        with make_desk() as desk:
            agent = desk.session(FRENCH)
            started = time.perf_counter()
            reply = first_suggestions(agent, url(desk, conversation, "suggestions"))
            timings[start] = time.perf_counter() - started
            assert reply.status_code == 200, reply.text
            body = reply.json()
            assert body["language"] == "fr"
            assert body["question"].startswith("Mon transfert SunuCash a échoué")
            assert body["articles"][0]["article_id"] == "failed-transfer"
            assert all(a["language"] == "fr" and 0 < len(a["text"]) <= 1000
                       and "#" not in a["text"].split("\n")[0] for a in body["articles"])
            started = time.perf_counter()
            asked = agent.get(url(desk, conversation, "suggestions"),
                              params={"q": "j'ai oublié mon code PIN"}, timeout=60)
            timings[f"{start} next query"] = time.perf_counter() - started
            assert asked.json()["question"] == "j'ai oublié mon code PIN"
            assert asked.json()["articles"][0]["article_id"] == "reset-pin"
            assert agent.get(url(desk, conversation, "suggestions"), params={"q": "x" * 501},
                             timeout=10).status_code == 400
            hostile = agent.get(url(desk, conversation, "suggestions"),
                                params={"q": "ﷺ" * 500}, timeout=60)
            assert hostile.status_code == 200
            for raw in ("%ED%A0%80%00", "%FF%FE", "a&q=b", "%0A" * 400):  # bad UTF-8, NUL...
                reply = agent.get(f"{url(desk, conversation, 'suggestions')}?q={raw}",
                                  timeout=60)
                assert reply.status_code in (200, 400), (raw, reply.text)
    with capsys.disabled():
        print("\nsuggestions, first request and the next:",
              ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()))


def test_an_english_article_answers_where_no_french_one_exists(
        desk, conversations, kb_env, monkeypatch):
    for name, value in kb_env.items():
        monkeypatch.setenv(name, value)
    KnowledgeBase(KbSettings.from_env()).build()  # as the action server does
    conversation = conversations(f"web:{uuid.uuid4().hex}", language="wo")
    reply = desk.session(FRENCH).get(url(desk, conversation, "suggestions"),
                                     params={"q": "roaming abroad"}, timeout=120)
    assert reply.status_code == 200, reply.text
    article = reply.json()["articles"][0]
    assert (article["article_id"], article["language"]) == ("roaming", "en")


def test_without_a_knowledge_base_suggestions_answer_503(desk, conversations, monkeypatch):
    monkeypatch.setenv("TERANGA_EMBEDDER", "no-such-embedder")
    conversation = conversations(f"web:{uuid.uuid4().hex}")
    agent = desk.session(FRENCH)
    for _ in range(2):  # and the desk keeps answering
        reply = agent.get(url(desk, conversation, "suggestions"), params={"q": "PIN"},
                          timeout=30)
        assert reply.status_code == 503
        assert "knowledge base is not available" in reply.json()["error"]
    assert agent.get(url(desk, conversation, "context"), timeout=10).status_code == 200
