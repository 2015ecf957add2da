"""Through the REST channel, with the Rasa server, the action server and a real Redis."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import redis
import requests
import yaml

from teranga.handoff.queue import STREAM
from tests.e2e.desk_client import all_texts, responses, said_in, wait_until
from tests.e2e.desk_client import tracker as read_tracker

pytestmark = pytest.mark.e2e

CONVERSATIONS = {
    "fr": ["slt", "jai perdu ma puce hier soir, que dois je faire", "ok merci"],
    "en": ["good morning", "how can i check my airtime balance pls", "thanks"],
    "wo": ["salaam aleekum", "dama beugue yonne xaalis sama yaay", "jerejef"],
    "sw": ["habari", "nataka kununua bundle ya internet ya wiki", "asante"],
    "ha": ["sannu", "ina son in tura kudi zuwa ga kanina", "na gode"],
}


@pytest.fixture(scope="module")
def server(server):
    """These tests need the Rasa server's address only."""
    return server.settings


def post(settings, sender, message=None, raw: bytes | None = None):
    data = raw if raw is not None else json.dumps({"sender": sender, "message": message})
    return requests.post(f"{settings.rasa_url}/webhooks/rest/webhook", data=data, timeout=30)


def tracker(settings, sender) -> dict:
    return read_tracker(settings.rasa_url, sender)


@pytest.mark.parametrize("language", sorted(CONVERSATIONS))
def test_short_conversation_in_each_language(server, sender, language):
    for message in CONVERSATIONS[language]:
        reply = post(server, sender, message)
        assert reply.status_code == 200 and reply.json(), message
    state = tracker(server, sender)
    # Whole bot messages (REST sends a long one paragraph by paragraph)
    said = [e["text"] for e in state["events"] if e["event"] == "bot"]
    assert len(said) >= len(CONVERSATIONS[language])
    assert all(said_in(language, text) for text in said), said
    assert state["slots"]["language"] == language
    assert state["latest_message"]["sentiment"]["label"] in {"positive", "neutral", "negative"}


def test_conversation_is_stored_in_redis(server, real_redis_url, sender):
    post(server, sender, "bonjour")
    keys = redis.Redis.from_url(real_redis_url).keys(f"*{sender}*")
    assert keys, "the tracker store did not write to Redis"


def test_switching_language_mid_conversation(server, sender):
    post(server, sender, "bonjour, mon credit a disparu")
    post(server, sender, "ok")
    assert tracker(server, sender)["slots"]["language"] == "fr"
    reply = post(server, sender, "habari, nataka kujua salio langu tafadhali").json()
    assert reply[0]["text"] in all_texts("sw")


@pytest.mark.parametrize("raw", [b"{bad json", b'{"sender": "x", "message": "\xff"}', b"[]",
                                 b'{"message": "hi"}', b'{"sender": "x", "message": 3}'])
def test_malformed_requests_get_a_400_and_the_conversation_goes_on(server, sender, raw):
    response = post(server, sender, raw=raw)
    assert response.status_code == 400
    assert "error" in response.json()
    assert post(server, sender, "bonjour").status_code == 200


@pytest.mark.parametrize("message", ["", "👍", "\x00\x07\x1b", "😡😡😡", "a" * 20_000,
                                     "mon credit a disparu " * 1000, "/restart"])
def test_odd_messages_get_a_graceful_reply(server, sender, message):
    post(server, sender, "salut")
    response = post(server, sender, message)
    assert response.status_code == 200
    assert response.json(), "no reply"
    after = post(server, sender, "jai un pb avec mon credit qui a disparu")
    assert after.status_code == 200 and after.json()


def test_long_message_is_kept_whole_in_the_tracker(server, sender):
    message = "mon credit a disparu " * 1000
    post(server, sender, message)
    user = [e for e in tracker(server, sender)["events"] if e["event"] == "user"][-1]
    assert len(user["text"]) <= 500
    assert user["metadata"]["teranga"]["full_text"] == message.strip()


def escalations_of(redis_url: str, sender: str) -> list[dict]:
    """The escalation records of one conversation, as the desk will read them."""
    entries = redis.Redis.from_url(redis_url).xrange(STREAM)
    records = [json.loads(fields[b"data"]) for _id, fields in entries]
    return [r for r in records if r["conversation_id"] == sender]


def test_a_request_for_a_person_is_queued_with_the_whole_context(server, real_redis_url,
                                                                 sender):
    post(server, sender, "salaam aleekum")
    post(server, sender, "sama transfert bi agsul, dama beugue xaalis bi")
    reply = post(server, sender, "dama beugue wax ak ab conseiller").json()
    assert [item["text"] for item in reply] == [handoff_text("wo")]
    [record] = escalations_of(real_redis_url, sender)
    assert record["reasons"] == ["asked_for_person"]
    assert record["language"] == "wo" and record["channel"] == "rest"
    said = [m["text"] for m in record["last_messages"] if m["from"] == "customer"]
    assert said == ["salaam aleekum", "sama transfert bi agsul, dama beugue xaalis bi",
                    "dama beugue wax ak ab conseiller"]
    assert any(m["from"] == "bot" for m in record["last_messages"])
    assert record["top_intents"][0]["name"] == "request_human"
    assert tracker(server, sender)["slots"]["handoff_reasons"] == ["asked_for_person"]


def test_a_customer_who_insists_out_of_scope_goes_to_a_person(server, real_redis_url, sender):
    post(server, sender, "bonjour")
    reply = post(server, sender, "qui a gagné le match de foot hier soir").json()
    assert [item["text"] for item in reply] == [responses("fr")["utter_out_of_scope"]]
    assert escalations_of(real_redis_url, sender) == []
    reply = post(server, sender, "je veux juste savoir le score du match de foot").json()
    assert [item["text"] for item in reply] == [handoff_text("fr")]
    [record] = escalations_of(real_redis_url, sender)
    assert record["reasons"] == ["out_of_scope"] and record["kb_candidates"]


def test_a_short_unclear_message_is_rephrased_then_handed_over(server, real_redis_url, sender):
    fr = all_texts("fr")
    post(server, sender, "bonjour")
    first = [item["text"] for item in post(server, sender, "xqzt ??").json()]
    assert first and all(text in fr for text in first) and first != [handoff_text("fr")]
    second = [item["text"] for item in post(server, sender, "vvv ??").json()]
    assert second == [handoff_text("fr")], second
    assert escalations_of(real_redis_url, sender)[0]["reasons"] == ["repeated_fallback"]


def handoff_text(language: str) -> str:
    # No agent is online in these tests: the customer is told an agent will answer here.
    return responses(language)["utter_handoff_no_agent_here"]


def test_teranga_chat_talks_to_the_running_assistant(server, sender):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "teranga", "chat", "--url", server.rasa_url, "--sender", sender],
        input="nanga def, dama beugue yonne xaalis\n/quit\n", capture_output=True, text=True,
        timeout=60)
    assert result.returncode == 0, result.stderr
    assert "bot> " in result.stdout
    assert "[language wo, intent send_money" in result.stdout


def test_swahili_question_is_answered_from_the_knowledge_base(server, sender):
    post(server, sender, "habari")
    reply = post(server, sender, "nitajuaje kama ujumbe ni wa utapeli")  # no intent covers it
    texts = [item["text"] for item in reply.json()]  # Rasa sends each paragraph apart
    assert texts and texts[0].startswith('Kutoka kwenye makala yetu "Jihadhari na utapeli"'), texts
    assert "utapeli ulaghai" not in texts[0], "the article's tags were quoted"
    state = tracker(server, sender)
    assert state["slots"]["kb_article"] == "fraud-warnings"
    assert state["slots"]["kb_miss"] is False


def ask_action_server(settings, question: str, language: str) -> dict:
    """The action server's own webhook, as Rasa calls it."""
    payload = {
        "next_action": "action_answer_from_kb", "sender_id": "kb-test", "version": "3.6.2",
        "domain": {}, "tracker": {
            "sender_id": "kb-test", "slots": {"language": language}, "events": [],
            "latest_message": {"text": question, "intent": {"name": "nlu_fallback"}},
            "paused": False, "followup_action": None, "active_loop": {},
            "latest_action_name": None}}
    response = requests.post(f"{settings.actions_url}/webhook", json=payload, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_an_edit_goes_live_in_the_running_action_server(server, kb_dir):
    question = "where can i charge my phone battery with solar power"
    article = (Path(__file__).parent.parent / "data" / "solar-kiosks.md").read_text("utf-8")
    (kb_dir / "en" / "solar-kiosks.md").write_text(article, "utf-8")
    results = []

    def live() -> bool:
        results.append(ask_action_server(server, question, "en"))
        return any(r.get("title") == "SunuSolar charging kiosks"
                   for r in results[-1]["responses"])

    try:
        wait_until(live, timeout=30, step=0.5)
    except TimeoutError:
        pytest.fail(f"the new article did not go live: {results[-1]}")


def reply_language(text: str) -> str | None:
    """The language of a reply: a fixed response, or a knowledge-base answer's opening."""
    for path in Path("domain/responses").glob("*.yml"):
        by_name = yaml.safe_load(path.read_text("utf-8"))["responses"]
        for variations in by_name.values():
            for variation in variations:
                template = variation["text"]
                if text == template or ("{title}" in template
                                        and text.startswith(template.split("{")[0])):
                    return path.stem
    return None


def test_replies_come_in_the_customers_language(server):
    """Each held-out message of three words or more opens a conversation; the bot's first
    reply (a response, a knowledge-base answer or a handoff) is in the message's language."""
    heldout = yaml.safe_load(Path("tests/data/heldout.yml").read_text("utf-8"))["messages"]
    long_enough = [m for m in heldout if len(m["text"].split()) >= 3]
    wrong = []
    for index, item in enumerate(long_enough):
        replies = post(server, f"lang-{uuid.uuid4().hex[:6]}-{index}", item["text"]).json()
        got = reply_language(replies[0]["text"]) if replies else None
        if got != item["language"]:
            wrong.append((item["text"], item["language"], got))
    assert len(wrong) <= 0.05 * len(long_enough), wrong


def test_a_message_sent_again_with_its_id_is_answered_without_a_second_turn(server, sender):
    """A REST client whose request failed sends it again; a load balancer tries it on another
    process when the first died in the middle of it. With the client's message id, the turn
    stored the first time is answered again, not run twice (bench/cluster.py saw one REST
    turn run twice when nginx retried a request that a killed process had already stored)."""
    body = json.dumps({"sender": sender, "message": "how can i check my balance",
                       "message_id": "m-1"})
    url = f"{server.rasa_url}/webhooks/rest/webhook"
    first = requests.post(url, data=body, timeout=30)
    again = requests.post(url, data=body, timeout=30)
    assert first.ok and again.ok
    assert [m["text"] for m in again.json()] == [m["text"] for m in first.json()]
    users = [e for e in tracker(server, sender)["events"] if e["event"] == "user"]
    assert len(users) == 1
    # Another message id is another message, even with the same text.
    other = requests.post(url, data=body.replace('"m-1"', '"m-2"'), timeout=30)
    assert other.ok
    assert len([e for e in tracker(server, sender)["events"] if e["event"] == "user"]) == 2
    refused = requests.post(url, data=body.replace('"m-1"', '"m 3/../x"'), timeout=30)
    assert refused.status_code == 400 and "message_id" in refused.json()["error"]
