"""One running assistant for every end-to-end test: Rasa server, action server and desk,
on the real Redis test database, with test agents and always-open desk settings."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
import redis
import yaml

from teranga import runtime
from teranga.handoff.agents import Agent, AgentDirectory, hash_password
from teranga.http_api import TOKEN_VARIABLE
from teranga.settings import Settings
from tests.e2e.desk_client import PASSWORD
from tests.fakes.telegram import FakeTelegram
from tests.fakes.twilio import FakeTwilio

# Each test works with its own agents and languages, so that tests do not take each
# other's conversations.
AGENTS = [
    Agent("awa", "Awa Diop", ["fr", "wo"], max_conversations=2),
    Agent("ndeye", "Ndeye Fall", ["wo"], max_conversations=2),
    Agent("fatou", "Fatou Sarr", ["fr"], max_conversations=2),
    Agent("kofi", "Kofi Mensah", ["en"], max_conversations=2),
    Agent("esi", "Esi Owusu", ["en"], max_conversations=2),
    Agent("yaw", "Yaw Boateng", ["en"], max_conversations=2),
    Agent("sani", "Sani Bello", ["ha"], max_conversations=1),
    Agent("musa", "Musa Abubakar", ["ha"], max_conversations=1),
    Agent("juma", "Juma Otieno", ["sw"], max_conversations=2),
    Agent("ama", "Ama Asante", ["en"], max_conversations=2),
    Agent("zara", "Zara Mensah", ["en"], skills=["sunucash"], max_conversations=2),
    Agent("sara", "Sara Ndiaye", ["fr", "en", "wo", "sw", "ha"], role="supervisor"),
]
ANSWER_TIMEOUT_SECONDS = 5


@pytest.fixture(scope="session")
def kb_dir(tmp_path_factory) -> Path:
    """A copy of the knowledge base that tests may edit while the servers run."""
    folder = tmp_path_factory.mktemp("kb") / "kb"
    shutil.copytree("kb", folder)
    return folder


@pytest.fixture(scope="session")
def desk_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("desk")
    directory = AgentDirectory(folder / "agents.yml")
    for agent in AGENTS:
        directory.add(Agent(**{**agent.__dict__, "password_hash": hash_password(PASSWORD)}))
    directory.save()
    settings = yaml.safe_load(Path("desk/settings.yml").read_text("utf-8"))
    settings["opening_hours"] = {day: "00:00-24:00" for day in settings["opening_hours"]}
    settings["answer_timeout_seconds"] = ANSWER_TIMEOUT_SECONDS
    (folder / "settings.yml").write_text(yaml.safe_dump(settings), "utf-8")
    return {"agents": folder / "agents.yml", "settings": folder / "settings.yml"}


@pytest.fixture(scope="session")
def privacy_file(tmp_path_factory) -> Path:
    """The privacy settings the servers read: no notice, so that tests see each turn's own
    replies; tests/e2e/test_privacy_notice.py switches it on while it runs."""
    path = tmp_path_factory.mktemp("privacy") / "privacy.yml"
    path.write_text("notice:\n  channels: []\n", "utf-8")
    return path


PUBLIC_URL = "https://bot.example.com"  # what Twilio would call, through a reverse proxy
TELEGRAM_SECRET = uuid.uuid4().hex
API_TOKEN = uuid.uuid4().hex  # the Rasa HTTP API's secret for this run


@pytest.fixture(scope="session")
def fake_twilio() -> FakeTwilio:
    fake = FakeTwilio("AC" + uuid.uuid4().hex, uuid.uuid4().hex)
    fake.start()
    return fake


@pytest.fixture(scope="session")
def fake_telegram() -> FakeTelegram:
    fake = FakeTelegram(f"{uuid.uuid4().int % 10**9}:{uuid.uuid4().hex}")
    fake.start()
    return fake


@pytest.fixture(scope="session")
def server(trained_model, real_redis_url, tmp_path_factory, kb_dir, desk_files, privacy_file,
           fake_twilio, fake_telegram):
    # The test database is the tests' own: start from nothing, so that no queue, owner or
    # presence left by an earlier run changes what these tests see.
    redis.Redis.from_url(real_redis_url).flushdb()
    settings = Settings(redis_url=real_redis_url, rasa_port=runtime.free_port(),
                        actions_port=runtime.free_port(), desk_port=runtime.free_port(),
                        models_dir=trained_model.parent, max_message_chars=500)
    environment = {
        "TERANGA_MAX_MESSAGE_CHARS": "500", "TERANGA_KB_DIR": str(kb_dir),
        "TERANGA_KB_INDEX_DIR": str(tmp_path_factory.mktemp("kb-index")),
        "TERANGA_AGENTS_FILE": str(desk_files["agents"]),
        "TERANGA_DESK_SETTINGS": str(desk_files["settings"]),
        "TERANGA_DESK_CONSUMER": "test-desk", "TERANGA_PRIVACY_SETTINGS": str(privacy_file),
        "TERANGA_INSIGHTS_URL": f"sqlite:///{tmp_path_factory.mktemp('insights')}/insights.db",
        "TERANGA_PUBLIC_URL": PUBLIC_URL, "TWILIO_API_URL": fake_twilio.url,
        "TWILIO_ACCOUNT_SID": fake_twilio.account_sid,
        "TWILIO_AUTH_TOKEN": fake_twilio.auth_token,
        "TWILIO_SMS_FROM": "+15550001111", "TWILIO_WHATSAPP_FROM": "whatsapp:+15550002222",
        "TELEGRAM_BOT_TOKEN": fake_telegram.token, "TELEGRAM_API_URL": fake_telegram.url,
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET, TOKEN_VARIABLE: API_TOKEN}
    # The servers and the tests (which read these too) see them for the session; the rest of
    # the run gets its environment back afterwards.
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        services = runtime.Services(settings, real_redis_url, tmp_path_factory.mktemp("logs"))
        services.start(trained_model)
        try:
            services.wait_until_ready(timeout=240)
            fake_twilio.callbacks = (PUBLIC_URL, services.rasa_url)  # the proxy, in effect
            yield services
        finally:
            services.stop()


@pytest.fixture(autouse=True)
def nobody_present(real_redis_url):
    """No agent is online unless a test says so."""
    client = redis.Redis.from_url(real_redis_url)
    client.delete("teranga:presence:online", "teranga:presence:available",
                  *client.keys("teranga:desk:status:*"))
