"""Through the REST channel, with the Rasa server, the action server and a real Redis."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
import redis
import requests
import yaml

from teranga import runtime
from teranga.settings import Settings

pytestmark = pytest.mark.e2e

CONVERSATIONS = {
    "fr": ["slt", "jai perdu ma puce hier soir, que dois je faire", "ok merci"],
    "en": ["good morning", "how can i check my airtime balance pls", "thanks"],
    "wo": ["salaam aleekum", "dama beugue yonne xaalis sama yaay", "jerejef"],
    "sw": ["habari", "nataka kununua bundle ya internet ya wiki", "asante"],
    "ha": ["sannu", "ina son in tura kudi zuwa ga kanina", "na gode"],
}


@pytest.fixture(scope="module")
def kb_dir(tmp_path_factory) -> Path:
    """A copy of the knowledge base that tests may edit while the servers run."""
    folder = tmp_path_factory.mktemp("kb") / "kb"
    shutil.copytree("kb", folder)
    return folder


@pytest.fixture(scope="module")
def server(trained_model, real_redis_url, tmp_path_factory, kb_dir):
    settings = Settings(redis_url=real_redis_url, rasa_port=runtime.free_port(),
                        actions_port=runtime.free_port(), models_dir=trained_model.parent,
                        max_message_chars=500)
    os.environ["TERANGA_MAX_MESSAGE_CHARS"] = "500"
    os.environ["TERANGA_KB_DIR"] = str(kb_dir)
    os.environ["TERANGA_KB_INDEX_DIR"] = str(tmp_path_factory.mktemp("kb-index"))
    services = runtime.Services(settings, real_redis_url, tmp_path_factory.mktemp("logs"))
    services.start(trained_model)
    try:
        services.wait_until_ready(timeout=240)
        yield settings
    finally:
        services.stop()


def post(settings, sender, message=None, raw: bytes | None = None):
    data = raw if raw is not None else json.dumps({"sender": sender, "message": message})
    return requests.post(f"{settings.rasa_url}/webhooks/rest/webhook", data=data, timeout=30)


def tracker(settings, sender) -> dict:
    return requests.get(f"{settings.rasa_url}/conversations/{sender}/tracker", timeout=10).json()


def texts_of(language: str) -> set[str]:
    path = Path(f"domain/responses/{language}.yml")
    responses = yaml.safe_load(path.read_text("utf-8"))["responses"]
    return {variation["text"] for variations in responses.values() for variation in variations}


@pytest.mark.parametrize("language", sorted(CONVERSATIONS))
def test_short_conversation_in_each_language(server, sender, language):
    own = texts_of(language)
    for message in CONVERSATIONS[language]:
        reply = post(server, sender, message)
        assert reply.status_code == 200
        texts = [item["text"] for item in reply.json()]
        assert texts and all(text in own for text in texts), (message, texts)
    state = tracker(server, sender)
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
    assert reply[0]["text"] in texts_of("sw")


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


def test_repeated_misunderstanding_points_to_a_person(server, sender):
    fr = texts_of("fr")
    post(server, sender, "bonjour")
    out_of_scope = ["quel temps fait il a dakar demain", "je veux commander une pizza",
                    "qui a gagné le match de foot hier soir"]
    replies = [post(server, sender, text).json()[0]["text"] for text in out_of_scope]
    assert all(text in fr for text in replies)
    assert replies[0] == replies[1] != replies[2]


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
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        result = ask_action_server(server, question, "en")
        if any(r.get("title") == "SunuSolar charging kiosks" for r in result["responses"]):
            return
        time.sleep(0.5)
    pytest.fail(f"the new article did not go live: {result}")
