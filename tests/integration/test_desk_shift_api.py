"""The desk's API for a real shift, served in this process against the real Redis test
database (no Rasa server: a stand-in records what the desk asks of it): the waiting list's
filters, search, limit and counts, a supervisor's take-over and overview, and wrap-up codes
at close."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
import redis.asyncio as aioredis
import requests

from teranga import redis_keys
from teranga.agent_desk.app import create_app
from teranga.agent_desk.auth import Sessions
from teranga.agent_desk.desk import Desk
from teranga.handoff.agents import Agent, AgentDirectory, hash_password
from teranga.handoff.escalation import join_queue
from teranga.handoff.store import HandoffStore
from teranga.settings import Settings
from tests.running_app import RunningApp

pytestmark = pytest.mark.usefixtures("several_apps")

PASSWORD = "correct horse battery"
AGENT, SUPERVISOR = "shiftawa", "shiftchief"  # no other test uses these ids


class StandInRasa:
    def __init__(self) -> None:
        self.appended: list[tuple[str, list[dict], bool]] = []

    async def append(self, conversation_id, events, send=False):
        self.appended.append((conversation_id, events, send))
        return {}

    async def tracker(self, conversation_id):
        return {"events": [], "paused": False}

    async def trigger_intent(self, conversation_id, intent):
        return {}

    async def close(self) -> None:
        pass


@pytest.fixture
def agents_file(tmp_path) -> Path:
    directory = AgentDirectory(tmp_path / "agents.yml")
    directory.add(Agent(AGENT, "Awa Sarr", ["wo"], password_hash=hash_password(PASSWORD)))
    directory.add(Agent(SUPERVISOR, "Chief Ndoye", ["fr"], role="supervisor",
                        password_hash=hash_password(PASSWORD)))
    directory.save()
    return directory.path


@pytest.fixture
def shift(real_redis_url, prefix, agents_file):
    """The desk app; three Wolof conversations waiting, found by a word of their own."""
    settings = Settings.from_env()
    token = uuid.uuid4().hex[:10]
    ids = [f"shift-{token}-{n}-a-long-web-chat-id" for n in range(3)]
    reasons = (["not_understood"], ["asked_for_person"], ["negative_sentiment"])

    async def queue_them():
        store = HandoffStore.from_url(real_redis_url, agents_file, settings.desk_settings_file)
        for number, (sender, why) in enumerate(zip(ids, reasons, strict=True)):
            said = time.time() - 100 + number
            await join_queue(store, {"sender_id": sender, "slots": {"language": "wo"},
                                     "latest_message": {"text": f"{token} dama soxla ndimbal"},
                                     "events": [{"event": "user", "timestamp": said,
                                                 "text": f"{token} dama soxla ndimbal",
                                                 "input_channel": "rest"}]}, why)
            for entry_id, escalation in await store.queue.read_new("shift-tests"):
                await store.records.add_entry(entry_id, escalation)
        await store.close()

    asyncio.run(queue_them())
    store = HandoffStore.from_url(real_redis_url, agents_file, settings.desk_settings_file)
    rasa = StandInRasa()
    app = create_app(Desk(store, rasa, "shift-tests"),
                     Sessions(aioredis.Redis.from_url(real_redis_url), prefix), set())
    with RunningApp(app) as running:
        yield running, ids, token, rasa, real_redis_url
    asyncio.run(_forget(real_redis_url, agents_file, ids))


async def _forget(url: str, agents_file: Path, ids: list[str]) -> None:
    store = HandoffStore.from_url(url, agents_file, Settings.from_env().desk_settings_file)
    for conversation_id in ids:
        owner = await store.ownership.owner(conversation_id)
        if owner.is_agent:
            await store.ownership.return_to_bot(conversation_id, owner.agent_id)
        await store.client.zrem(store.ownership.queued_key, conversation_id)
        await store.client.delete(store.ownership._key(conversation_id),
                                  store.records.key(conversation_id),
                                  store.last_messages.key(conversation_id))
        await store.answer_not_expected(conversation_id)
    await store.close()


def log_in(url: str, agent_id: str) -> requests.Session:
    browser = requests.Session()
    reply = browser.post(f"{url}/login", data={"agent": agent_id, "password": PASSWORD},
                         headers={"Origin": url}, allow_redirects=False, timeout=10)
    assert reply.status_code == 302, reply.text
    browser.headers["Origin"] = url
    return browser


def test_the_waiting_list_is_sorted_filtered_searched_and_limited(shift):
    desk, ids, token, _rasa, _url = shift
    agent = log_in(desk.url, AGENT)
    me = agent.get(f"{desk.url}/api/me", timeout=10).json()
    assert {"code": "fraud_report", "label": "Fraud report"} in me["wrap_up_codes"]
    assert me["answer_timeout_seconds"] > me["answer_warning_seconds"] > 0
    found = agent.get(f"{desk.url}/api/queue", params={"q": token.upper()}, timeout=10).json()
    assert [s["conversation_id"] for s in found["waiting"]] == [ids[2], ids[1], ids[0]]
    assert found["waiting_matching"] == 3 and found["waiting_total"] >= 3
    assert found["facets"]["language"]["wo"] >= 3
    first = found["waiting"][0]
    assert first["short_id"] == f"shift-{token[:3]}…{ids[2][-10:]}"  # 20 characters
    assert first["last_message"]["text"].startswith(token)
    limited = agent.get(f"{desk.url}/api/queue", params={"q": token, "limit": "1",
                                                         "reason": "asked_for_person"},
                        timeout=10).json()
    assert [s["conversation_id"] for s in limited["waiting"]] == [ids[1]]
    for bad in ({"limit": "0"}, {"limit": "501"}, {"limit": "ten"}, {"limit": "١٠"},
                {"q": "x" * 201}):
        reply = agent.get(f"{desk.url}/api/queue", params=bad, timeout=10)
        assert reply.status_code == 400 and reply.json()["error"], bad


def test_a_supervisor_takes_over_sees_everything_and_a_close_keeps_its_wrap_up(shift):
    desk, ids, _token, rasa, url = shift
    agent, chief = log_in(desk.url, AGENT), log_in(desk.url, SUPERVISOR)
    assert chief.get(f"{desk.url}/api/me", timeout=10).json()["available"] is False
    assert chief.post(f"{desk.url}/api/presence", json={"available": True},
                      timeout=10).json() == {"available": False}
    path = f"{desk.url}/api/conversations/{quote(ids[0], safe='')}"
    assert agent.post(f"{path}/claim", json={}, timeout=10).ok
    assert agent.post(f"{path}/take_over", json={}, timeout=10).status_code == 403
    assert chief.post(f"{path}/take_over", json={}, timeout=10).ok
    assert chief.post(f"{path}/take_over", json={}, timeout=10).status_code == 409
    seen = chief.get(path, timeout=10).json()
    assert seen["holder_name"] == "Chief Ndoye" and seen["answer_due_at"] is None
    overview = chief.get(f"{desk.url}/api/overview", timeout=10).json()
    live = {s["conversation_id"]: s for s in overview["live"]}
    assert live[ids[0]]["holder_name"] == "Chief Ndoye" and live[ids[1]]["priority"]
    assert {a["id"]: a["status"] for a in overview["agents"]}[SUPERVISOR] == "supervising"
    for body in ({"wrap_up": "made_up"}, {"wrap_up": ["resolved"]},
                 {"tags": ["a", "b", "c", "d", "e", "f"]}, {"tags": "vip"}):
        reply = chief.post(f"{path}/close", json=body, timeout=10)
        assert reply.status_code == 400 and reply.json()["error"], body
    assert chief.post(f"{path}/close", json={"wrap_up": "resolved", "tags": ["pin"]},
                      timeout=10).ok
    record = json.loads(redis.Redis.from_url(url).get(redis_keys.conversation_record(ids[0])))
    assert (record["wrap_up"], record["tags"], record["closed_by"]) == ("resolved", ["pin"],
                                                                        SUPERVISOR)
    assert [events for c, events, _send in rasa.appended if c == ids[0]][0] == [
        {"event": "pause"}]
