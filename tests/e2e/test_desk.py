"""The handoff end to end: Rasa server, action server, desk and real Redis, with customers on
the REST channel and agents on the desk's API and websocket."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import datetime

import pytest
import redis
import requests
import websockets
import yaml
from websockets.exceptions import InvalidStatusCode

from teranga import runtime
from teranga.agent_desk.desk import Desk
from teranga.agent_desk.rasa_api import RasaApi
from teranga.agent_desk.routing import Dispatch
from teranga.handoff.availability import load_settings
from teranga.handoff.store import HandoffStore
from teranga.settings import PROJECT_ROOT, Settings
from tests.blocking import ConversationRecords, Ownership, Presence, by_agent
from tests.e2e.conftest import ANSWER_TIMEOUT_SECONDS
from tests.e2e.desk_client import (
    AgentSession,
    collect_until,
    from_agents,
    next_news,
    responses,
    say,
    tracker,
    wait_until,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def client(real_redis_url) -> redis.Redis:
    return redis.Redis.from_url(real_redis_url)


def available(client: redis.Redis, *agent_ids: str) -> None:
    """Agents with a desk open and taking conversations (as the desk's heartbeat says)."""
    for agent_id in agent_ids:
        Presence(client).heartbeat(agent_id, True)


def owner(client: redis.Redis, conversation_id: str) -> str:
    return Ownership(client).owner(conversation_id)


def desk_rounds(client: redis.Redis, rounds: int = 2) -> None:
    """Wait until the desk has run `rounds` more rounds of deadlines and routing (each second,
    teranga/agent_desk/background.py's deadlines job): a marker that no agent owns, put due
    in the answer deadlines (redis_keys.AWAITING_ANSWER), is taken out by a round's
    RequeueUnanswered. A round
    asks for routing after its deadlines, so once the next round has begun, the routing the
    one before asked for has run."""
    for _ in range(rounds):
        marker = f"round-{time.time_ns()}"
        client.zadd("teranga:desk:awaiting-answer", {marker: 0})
        wait_until(lambda m=marker: client.zscore("teranga:desk:awaiting-answer", m) is None)


# --- sessions, origins, permissions -------------------------------------------------------

def test_nothing_answers_without_a_session(server):
    desk = server.desk_url
    page = requests.get(f"{desk}/", allow_redirects=False, timeout=10)
    assert page.status_code == 302 and page.headers["location"] == "/login"
    for path in ("/api/me", "/api/queue", "/api/overview", "/api/conversations/x",
                 "/static/desk.js"):
        reply = requests.get(f"{desk}{path}", allow_redirects=False, timeout=10)
        assert reply.status_code in (401, 302), path
    forged = {"Cookie": "teranga_desk=not-a-session", "Origin": desk}
    assert requests.get(f"{desk}/api/me", headers=forged, timeout=10).status_code == 401
    with pytest.raises(InvalidStatusCode) as refused:
        asyncio.run(_open(f"{desk.replace('http', 'ws')}/ws", {"Origin": desk}))
    assert refused.value.status_code == 401


async def _open(url: str, headers: dict) -> None:
    async with websockets.connect(url, extra_headers=headers):
        pass


def test_a_forged_origin_is_refused(server):
    agent = AgentSession(server.desk_url, "fatou")
    with pytest.raises(InvalidStatusCode) as refused:
        asyncio.run(_open(f"{server.desk_url.replace('http', 'ws')}/ws",
                          {"Cookie": agent.cookie, "Origin": "http://evil.example"}))
    assert refused.value.status_code == 403
    reply = agent.http.post(f"{server.desk_url}/api/presence", json={"available": False},
                            headers={"Origin": "http://evil.example"}, timeout=10)
    assert reply.status_code == 403
    # No Origin (nor Referer) at all is refused too: browsers always send one of them.
    unsigned = requests.post(f"{server.desk_url}/api/presence", json={"available": False},
                             headers={"Cookie": agent.cookie}, timeout=10)
    assert unsigned.status_code == 403 and unsigned.json()["error"]
    me = agent.get("/api/me")
    assert me.status_code == 200  # the session itself is fine
    assert me.headers["X-Frame-Options"] == "DENY" and me.headers["Cache-Control"] == "no-store"


def test_wrong_passwords_are_refused_and_then_locked_out(server):
    def attempt(password):
        return requests.post(f"{server.desk_url}/login", timeout=10, allow_redirects=False,
                             data={"agent": "musa", "password": password},
                             headers={"Origin": server.desk_url})

    for _ in range(5):
        assert attempt("wrong password").status_code == 401
    assert attempt("correct horse battery").status_code == 429  # even the right one, now


def test_agents_see_only_their_queues_and_supervisors_see_all(server, client, sender):
    assert say(server.rasa_url, sender, "je veux parler a un conseiller svp")
    wait_until(lambda: ConversationRecords(client).get(sender))
    fatou, kofi = AgentSession(server.desk_url, "fatou"), AgentSession(server.desk_url, "kofi")
    assert sender in [c["conversation_id"] for c in fatou.get("/api/queue").json()["waiting"]]
    assert sender not in [c["conversation_id"] for c in kofi.get("/api/queue").json()["waiting"]]
    assert kofi.get(f"/api/conversations/{sender}").status_code == 404
    assert kofi.act(sender, "claim").status_code == 404
    assert fatou.act(sender, "claim").status_code == 200
    # Now it is Fatou's: another agent of the same language may neither read nor answer it.
    awa = AgentSession(server.desk_url, "awa")
    assert awa.get(f"/api/conversations/{sender}").status_code == 404
    assert awa.act(sender, "reply", text="bonjour").status_code == 404
    supervisor = AgentSession(server.desk_url, "sara")
    assert supervisor.get(f"/api/conversations/{sender}").status_code == 200
    assert kofi.get("/api/overview").status_code == 403
    assert supervisor.get("/api/overview").status_code == 200
    assert fatou.act(sender, "close").status_code == 200


# --- the whole handoff ------------------------------------------------------------------------

def test_escalation_reply_and_hand_back_through_the_desk(server, client, sender):
    wo = responses("wo")
    agent = AgentSession(server.desk_url, "ndeye")

    async def scenario():
        async with agent.websocket() as ws:
            await asyncio.to_thread(  # the desk has counted Ndeye present
                wait_until, lambda: "ndeye" in Presence(client).available())
            assert say(server.rasa_url, sender, "salaam aleekum")
            reply = say(server.rasa_url, sender, "dama beugue wax ak ab conseiller")
            assert reply == [wo["utter_handoff_coming"].replace("{wait_minutes}", "1")]
            assigned = await next_news(ws, lambda n: n.get("kind") == "assigned"
                                       and n["conversation_id"] == sender)
            assert assigned["owner"] == "agent:ndeye"
            assert tracker(server.rasa_url, sender)["paused"] is True

            view = agent.get(f"/api/conversations/{sender}").json()
            assert view["language"] == "wo" and view["reasons"] == ["asked_for_person"]
            assert view["top_intents"][0]["name"] == "request_human"
            said = [line["text"] for line in view["transcript"] if line["from"] == "customer"]
            assert said == ["salaam aleekum", "dama beugue wax ak ab conseiller"]

            # While Ndeye owns it, the bot says nothing and the message reaches her at once.
            assert say(server.rasa_url, sender, "sama xaalis bi dafa réer") == []
            news = await next_news(ws, lambda n: n.get("type") == "message"
                                   and n.get("event") == "user"
                                   and n["conversation_id"] == sender)
            assert news["text"] == "sama xaalis bi dafa réer"

            assert agent.act(sender, "reply", text="Maa ngi lay seet sa transfert.").ok
            said = collect_until(server.rasa_url, sender, from_agents)
            # first told who joined, in Wolof, as the service (no agent's name on the line)
            assert said[0]["text"] == wo["utter_agent_joined"].replace(
                "{agent_name}", "Ndeye Fall") and not said[0].get("agent")
            [delivered] = from_agents(said)
            assert delivered["text"] == "Maa ngi lay seet sa transfert."
            assert delivered["agent"] == "ndeye"
            return delivered["id"]

    last_id = asyncio.run(scenario())
    events = tracker(server.rasa_url, sender)["events"]
    [agent_line] = [e for e in events if (e.get("metadata") or {}).get("agent") == "ndeye"]
    assert agent_line["event"] == "bot"

    assert agent.act(sender, "return").ok
    assert owner(client, sender) == "bot"
    assert tracker(server.rasa_url, sender)["paused"] is False
    told = collect_until(server.rasa_url, sender, lambda said: len(said) >= 2, after=last_id)
    assert [m["text"] for m in told] == [wo["utter_back_with_bot"], wo["utter_ask_satisfaction"]]
    assert say(server.rasa_url, sender, "waaw") == [wo["utter_satisfaction_thanks"]]
    assert by_agent(client)["ndeye"]["yes"] >= 1
    # The bot is back, with the conversation's language kept.
    assert say(server.rasa_url, sender, "dama bëgg xam sama crédit") == [
        wo["utter_check_balance"]]


def test_no_agent_online_means_an_answer_here_later(server, client, sender):
    fr = responses("fr")
    assert say(server.rasa_url, sender, "je veux parler a un conseiller") == [
        fr["utter_handoff_no_agent_here"]]  # no number to call back on the REST channel
    assert say(server.rasa_url, sender, "oui") == [fr["utter_affirm"]]
    record = wait_until(lambda: ConversationRecords(client).get(sender))
    assert owner(client, sender) == "queued" and record.language == "fr"
    assert "callback_requested" not in record.escalation.reasons


def test_outside_opening_hours_the_customer_is_told_when_it_opens(server, desk_files, sender):
    path = desk_files["settings"]
    normal = path.read_text("utf-8")
    closed = yaml.safe_load(normal)
    closed["opening_hours"] = {day: "closed" for day in closed["opening_hours"]}
    # Open one hour two days from now, whatever the day and the time zone: a fixed day
    # ("mon") failed when the test ran within that hour.
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    closed["opening_hours"][days[(datetime.now().weekday() + 2) % 7]] = "08:00-09:00"
    try:
        path.write_text(yaml.safe_dump(closed), "utf-8")
        opens = load_settings(path).hours.next_opening(datetime.now().astimezone())
        reply = say(server.rasa_url, sender, "i want to talk to a human agent")
    finally:
        path.write_text(normal, "utf-8")
    expected = responses("en")["utter_handoff_closed_here"].replace(
        "{opens_at}", opens.strftime("%d/%m %H:%M"))
    assert reply == [expected]


def test_an_unanswered_assignment_goes_back_to_the_queue(server, client, sender):
    available(client, "sani", "musa")
    assert say(server.rasa_url, sender, "ina son magana da wani ma'aikaci")
    first = wait_until(lambda: owner(client, sender).startswith("agent:") and
                       owner(client, sender))
    # Nobody answers: after the timeout it goes to the other Hausa agent, then to nobody,
    # each agent who let it go being marked away until they say they are back.
    second = wait_until(lambda: (o := owner(client, sender)) not in ("queued", first) and o,
                        timeout=ANSWER_TIMEOUT_SECONDS + 5)
    assert {first, second} == {"agent:sani", "agent:musa"}
    wait_until(lambda: owner(client, sender) == "queued", timeout=ANSWER_TIMEOUT_SECONDS + 5)
    desk_rounds(client)  # the desk routes again: nobody available
    assert owner(client, sender) == "queued"
    assert Presence(client).available() & {"sani", "musa"} == set()
    assert tracker(server.rasa_url, sender)["paused"] is False  # the bot helps meanwhile
    # The customer heard who joined, and each time that another agent would answer instead.
    ha = responses("ha")
    told = collect_until(server.rasa_url, sender,
                         lambda said: [m["text"] for m in said].count(
                             ha["utter_agent_requeued"]) >= 2)
    names = {"agent:sani": "Sani Bello", "agent:musa": "Musa Abubakar"}
    joined, requeued = ha["utter_agent_joined"], ha["utter_agent_requeued"]
    assert [m["text"] for m in told] == [
        joined.replace("{agent_name}", names[first]), requeued,
        joined.replace("{agent_name}", names[second]), requeued]
    supervisor = AgentSession(server.desk_url, "sara")
    overview = supervisor.get("/api/overview").json()
    [seen] = [c for c in overview["attention"] if c["conversation_id"] == sender]
    assert [r["agent"] for r in seen["requeues"]] == [first[6:], second[6:]]
    assert all("no answer" in r["why"] for r in seen["requeues"])
    status = {a["id"]: a for a in overview["agents"]}
    assert not status["sani"]["available"] and not status["musa"]["available"]
    # Sani is back: the conversation is his again.
    AgentSession(server.desk_url, "sani").post("/api/presence", {"available": True})
    wait_until(lambda: owner(client, sender) == "agent:sani")
    assert supervisor.act(sender, "close").ok


def test_a_conversation_needing_a_skill_goes_to_an_agent_who_has_it(server, client, sender):
    available(client, "ama", "zara")  # equally free; without skills, "ama" would come first
    say(server.rasa_url, sender, "my transfer failed and the money never arrived")
    say(server.rasa_url, sender, "i want to talk to an agent")
    assert wait_until(lambda: owner(client, sender).startswith("agent:")
                      and owner(client, sender)) == "agent:zara"
    assert ConversationRecords(client).get(sender).escalation.skill == "sunucash"
    assert AgentSession(server.desk_url, "zara").act(sender, "close").ok


def test_transfer_to_another_agent_and_to_a_language_queue(server, client, sender):
    assert say(server.rasa_url, sender, "je voudrais parler a quelqu'un du service client")
    wait_until(lambda: ConversationRecords(client).get(sender))
    awa, fatou = AgentSession(server.desk_url, "awa"), AgentSession(server.desk_url, "fatou")
    assert awa.act(sender, "claim").ok
    assert awa.act(sender, "transfer", agent="nobody").status_code == 400
    assert awa.act(sender, "transfer", agent="fatou").ok
    assert owner(client, sender) == "agent:fatou"
    assert awa.act(sender, "reply", text="encore moi").status_code == 404
    assert fatou.act(sender, "transfer", language="xx").status_code == 400
    assert fatou.act(sender, "transfer", language="sw").ok  # the customer writes Swahili
    assert owner(client, sender) == "queued"
    juma = AgentSession(server.desk_url, "juma")
    assert sender in [c["conversation_id"] for c in juma.get("/api/queue").json()["waiting"]]
    assert juma.act(sender, "close").status_code == 409  # claim first
    assert juma.act(sender, "claim").ok and juma.act(sender, "close").ok
    assert owner(client, sender) == "bot"


# --- several desks, restarts ------------------------------------------------------------------

def _desk_process(server, consumer: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "REDIS_URL": server.redis_url, "TERANGA_DESK_CONSUMER": consumer,
           "PYTHONPATH": str(PROJECT_ROOT)}
    log = (server.log_dir / f"desk-{consumer}.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "teranga", "desk", "--port", str(port),
         "--rasa-url", server.rasa_url], env=env, cwd=PROJECT_ROOT,
        stdout=log, stderr=subprocess.STDOUT)
    wait_until(lambda: runtime.port_in_use(port), timeout=60)
    return process


def test_two_desks_never_give_one_conversation_to_two_agents(server, client):
    senders = [f"two-desks-{i}-{time.time_ns()}" for i in range(12)]
    for sender in senders:
        say(server.rasa_url, sender, "i want to speak to an agent please")
    second = _desk_process(server, "test-desk-2", runtime.free_port())
    try:
        records = ConversationRecords(client)
        wait_until(lambda: all(records.get(s) for s in senders))
        # Both desk processes and two more desks in this process race for the same queue.
        available(client, "kofi", "esi", "yaw")
        async def race():
            files = Settings.from_env()
            desks = [Desk(HandoffStore.from_url(server.redis_url, files.agents_file,
                                                files.desk_settings_file),
                          RasaApi.from_env(server.rasa_url), f"race-{i}") for i in range(2)]
            try:
                return await asyncio.gather(*(Dispatch(d.store, d.rasa).run() for d in desks))
            finally:
                for desk in desks:
                    await desk.close()

        asyncio.run(race())
        ownership = Ownership(client)  # every place given, and both desk processes routed since
        wait_until(lambda: sum(len(ownership.conversations_of(a))
                               for a in ("kofi", "esi", "yaw")) >= 6)
        desk_rounds(client)
    finally:
        # A desk stops in well under a second (its log, desk-test-desk-2.log, says how long);
        # the margin is for a loaded CI machine.
        second.terminate()
        second.wait(30)
    ownership = Ownership(client)
    held = {a: ownership.conversations_of(a) for a in ("kofi", "esi", "yaw")}
    assert all(len(c) <= 2 for c in held.values()), held
    every = [c for conversations in held.values() for c in conversations]
    assert len(every) == len(set(every)) == 6, held
    for agent_id, conversations in held.items():
        assert all(owner(client, c) == f"agent:{agent_id}" for c in conversations)


def test_a_desk_restart_loses_nothing(server, client):
    before, during = f"restart-a-{time.time_ns()}", f"restart-b-{time.time_ns()}"
    # A desk that died between the two steps of an assignment: Sani owns this one in Redis,
    # but Rasa never heard, so the bot would still talk.
    half = f"restart-c-{time.time_ns()}"
    say(server.rasa_url, half, "ina son magana da wani ma'aikaci")
    wait_until(lambda: ConversationRecords(client).get(half))
    assert Ownership(client).assign(half, "sani")
    available(client, "juma")
    say(server.rasa_url, before, "nataka kuongea na mhudumu tafadhali")
    wait_until(lambda: owner(client, before) == "agent:juma")
    wait_until(lambda: tracker(server.rasa_url, before)["paused"])  # assignment complete

    old = server.processes["desk"]
    old.terminate()
    old.wait(15)
    # While no desk runs: a new escalation, and a message in the conversation Juma holds.
    say(server.rasa_url, during, "nataka kuongea na mtu, si roboti")
    assert say(server.rasa_url, before, "bado nasubiri jibu lenu") == []
    server.processes["desk"] = _desk_process(server, "test-desk", server.settings.desk_port)

    available(client, "juma")
    wait_until(lambda: owner(client, during) == "agent:juma")
    juma = AgentSession(server.desk_url, "juma")
    mine = {c["conversation_id"] for c in juma.get("/api/queue").json()["mine"]}
    assert {before, during} <= mine
    view = juma.get(f"/api/conversations/{before}").json()
    assert "bado nasubiri jibu lenu" in [line["text"] for line in view["transcript"]]
    assert juma.act(before, "reply", text="Samahani kwa kusubiri.").ok
    said = collect_until(server.rasa_url, before, from_agents)
    assert [m["text"] for m in from_agents(said)] == ["Samahani kwa kusubiri."]
    for sender in (before, during):
        assert juma.act(sender, "close").ok
    wait_until(lambda: tracker(server.rasa_url, half)["paused"])  # reconciled at start-up
    assert AgentSession(server.desk_url, "sara").act(half, "close").ok
