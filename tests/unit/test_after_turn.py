"""What the bot adds after a turn (connectors/outputs.py): the warning when a secret was
removed from the message, and the privacy notice at a customer's first contact on a channel
that sends it; both in the conversation's language and stored like any bot message."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis
import yaml
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.events import BotUttered, SlotSet
from rasa.shared.core.slots import TextSlot
from rasa.shared.core.trackers import DialogueStateTracker

from connectors.outputs import SECRET_WARNING, after_turn_messages
from teranga import redis_keys
from teranga.channels.inbound import SECRETS_REMOVED
from teranga.languages import default_language
from teranga.privacy.found import SECRET
from teranga.privacy.notice import (
    NOTICE_RESPONSE,
    NoticesGiven,
    PrivacySettingsError,
    load_notice_settings,
)

SECRET_REMOVED = {"teranga": {SECRETS_REMOVED: [SECRET]}}
POLICY_URL = "https://privacy.test/policy"
REDIS_URL = ""  # set by the `redis_url` fixture


def domain_responses() -> dict:
    merged: dict = {}
    for path in sorted(Path("domain/responses").glob("*.yml")):
        for name, variations in yaml.safe_load(path.read_text("utf-8"))["responses"].items():
            merged.setdefault(name, []).extend(variations)
    return merged


def response_text(name: str, language: str | None) -> str:
    path = Path(f"domain/responses/{language or default_language()}.yml")
    return yaml.safe_load(path.read_text("utf-8"))["responses"][name][0]["text"]


class StubAgent:
    """What `after_turn_messages` uses of Rasa's Agent: its lock, tracker store and NLG."""

    def __init__(self, tracker) -> None:
        self.tracker = tracker
        self.saved = []
        self.locked = []
        self.tracker_store = self
        self.lock_store = self
        self.nlg = TemplatedNaturalLanguageGenerator(domain_responses())

    @contextlib.asynccontextmanager
    async def lock(self, conversation_id):
        self.locked.append(conversation_id)
        yield

    async def retrieve(self, conversation_id):
        return self.tracker

    async def save(self, tracker):
        self.saved.append([e for e in tracker.events if isinstance(e, BotUttered)])


def tracker_in(language: str | None):
    conversation_id = f"+2217{uuid.uuid4().int % 10**8:08d}"
    tracker = DialogueStateTracker(conversation_id, [TextSlot("language", mappings=[])])
    if language:
        tracker.update(SlotSet("language", language))
    return tracker


@pytest.fixture
def notice_on(tmp_path, monkeypatch):
    """The notice sent on SMS and REST only."""
    path = tmp_path / "privacy.yml"
    path.write_text(yaml.safe_dump({"notice": {"channels": ["twilio_sms", "rest"],
                                               "policy_url": POLICY_URL}}))
    monkeypatch.setenv("TERANGA_PRIVACY_SETTINGS", str(path))
    return path


@pytest.fixture
def notice_off(tmp_path, monkeypatch):
    monkeypatch.setenv("TERANGA_PRIVACY_SETTINGS", str(tmp_path / "absent.yml"))


@pytest.fixture(autouse=True)
def redis_url(real_redis_url):
    """The real Redis that keeps which conversations were given the notice."""
    global REDIS_URL
    REDIS_URL = real_redis_url
    return real_redis_url


def after_turn(agent, channel="twilio_sms", metadata=None):
    async def run():
        client = aioredis.Redis.from_url(REDIS_URL)
        try:
            return await after_turn_messages(agent, channel, agent.tracker.sender_id,
                                              metadata or {}, NoticesGiven(client))
        finally:
            await client.close()
    return asyncio.run(run())


@pytest.mark.parametrize("language", ["en", "fr", "wo", "sw", "ha", None])
def test_the_warning_is_said_and_stored_in_the_conversations_language(language, notice_off):
    agent = StubAgent(tracker_in(language))
    [message] = after_turn(agent, metadata=SECRET_REMOVED)
    expected = response_text(SECRET_WARNING, language)
    assert message["text"] == expected
    assert agent.locked == [agent.tracker.sender_id] and agent.saved[-1][-1].text == expected


def test_nothing_is_added_without_a_removed_secret_or_a_notice(notice_off):
    agent = StubAgent(tracker_in("fr"))
    for metadata in ({}, {"teranga": {}}, {"teranga": {SECRETS_REMOVED: []}}):
        assert after_turn(agent, metadata=metadata) == []
    assert agent.saved == [] and agent.locked == []


def test_a_failing_store_costs_the_warning_not_the_turn(caplog, notice_off):
    agent = StubAgent(tracker_in("fr"))

    async def broken(_conversation_id):
        raise ConnectionError("Redis is down")

    agent.retrieve = broken
    assert after_turn(agent, metadata=SECRET_REMOVED) == []
    assert f"Could not add the warning or notice after a turn of {agent.tracker.sender_id}" \
        in caplog.text


@pytest.mark.parametrize("language", ["en", "fr", "wo", "sw", "ha"])
def test_the_first_contact_gets_the_notice_in_the_customers_language(language, notice_on):
    agent = StubAgent(tracker_in(language))
    [notice] = after_turn(agent)
    assert notice["text"] == response_text(NOTICE_RESPONSE, language).replace(
        "{policy_url}", POLICY_URL)
    assert POLICY_URL in notice["text"]
    assert agent.saved[-1][-1].metadata == {"utter_action": NOTICE_RESPONSE}


def test_the_notice_is_said_once_per_conversation(notice_on):
    agent = StubAgent(tracker_in("fr"))
    assert len(after_turn(agent)) == 1
    assert after_turn(agent) == []
    assert after_turn(agent, metadata=SECRET_REMOVED)[0]["text"] == \
        response_text(SECRET_WARNING, "fr")


def test_a_new_session_is_not_a_first_contact(notice_on):
    """Rasa's tracker store gives the current session only: the notice is remembered apart,
    under a key erased with the customer."""
    first_session = StubAgent(tracker_in("wo"))
    assert len(after_turn(first_session)) == 1
    conversation = first_session.tracker.sender_id
    assert redis.Redis.from_url(REDIS_URL).exists(redis_keys.privacy_notice_given(conversation))
    later_session = StubAgent(DialogueStateTracker(conversation,
                                                   [TextSlot("language", mappings=[])]))
    assert after_turn(later_session) == []


def test_the_warning_comes_before_the_notice(notice_on):
    agent = StubAgent(tracker_in("sw"))
    said = [m["text"] for m in after_turn(agent, metadata=SECRET_REMOVED)]
    assert said == [response_text(SECRET_WARNING, "sw"),
                    response_text(NOTICE_RESPONSE, "sw").replace("{policy_url}", POLICY_URL)]


def test_a_channel_left_out_of_the_settings_gets_no_notice(notice_on):
    agent = StubAgent(tracker_in("fr"))
    assert after_turn(agent, channel="telegram") == []
    assert agent.locked == []  # nothing to add: the lock is not even taken


def test_switching_the_notice_off_applies_without_a_restart(notice_on):
    agent = StubAgent(tracker_in("en"))
    notice_on.write_text("notice:\n  channels: []\n")
    assert after_turn(agent) == []
    notice_on.write_text("notice:\n  channels: [twilio_sms]\n  policy_url: x\n")
    assert len(after_turn(agent)) == 1


@pytest.mark.parametrize("content", ["notice: [sms]", "notice:\n  channels: sms",
                                     "notice:\n  channels: [1]", "notice:\n  policy_url: [x]"])
def test_a_malformed_settings_file_is_refused_clearly(tmp_path, content):
    path = tmp_path / "privacy.yml"
    path.write_text(content)
    with pytest.raises(PrivacySettingsError, match="notice"):
        load_notice_settings(path)


def test_a_malformed_settings_file_costs_the_notice_not_the_warning(notice_on, caplog):
    notice_on.write_text("notice:\n  channels: sms\n")
    said = after_turn(StubAgent(tracker_in("fr")), metadata=SECRET_REMOVED)
    assert [m["text"] for m in said] == [response_text(SECRET_WARNING, "fr")]
    assert "notice.channels" in caplog.text


def test_the_shipped_settings_send_the_notice_on_every_channel():
    settings = load_notice_settings(Path("privacy.yml"))
    assert settings.channels == {"twilio_sms", "twilio_whatsapp", "telegram", "socketio", "rest"}
    assert settings.policy_url.startswith("https://")
