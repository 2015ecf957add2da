"""While Redis is unreachable, a provider's webhook gets a 503 ("try again"), never a 500 with
a traceback, and nothing is handed to Rasa half-accepted. The channels' blueprints are served
on their own, with a Redis client pointed at a port where nothing listens."""

from __future__ import annotations

import logging
import uuid

import pytest
import redis.asyncio as aioredis
import requests
from sanic import Sanic
from twilio.request_validator import RequestValidator

from connectors.rest import RestInput
from connectors.telegram import TelegramInput
from connectors.twilio import TwilioSmsInput
from teranga import runtime
from teranga.channels.outbox import Outbox
from teranga.channels.pipeline import Pipeline
from teranga.channels.telegram_api import TelegramSender, TelegramSettings
from teranga.channels.twilio_api import TwilioSender, TwilioSettings
from tests.running_app import RunningApp

pytestmark = pytest.mark.usefixtures("several_apps")

WEBHOOK = "https://bot.example.com/webhooks/twilio_sms/webhook"
SECRET = uuid.uuid4().hex


@pytest.fixture
def dead_redis() -> str:
    return f"redis://127.0.0.1:{runtime.free_port()}/0"  # nothing listens there


def serve(channel, received: list) -> RunningApp:
    async def on_new_message(message):
        received.append(message)

    app = Sanic(f"channel-{uuid.uuid4().hex[:8]}")
    app.blueprint(channel.blueprint(on_new_message), url_prefix=f"/webhooks/{channel.name()}")
    return RunningApp(app)


def test_a_twilio_webhook_while_redis_is_down_gets_a_503(dead_redis, caplog):
    settings = TwilioSettings("AC" + uuid.uuid4().hex, uuid.uuid4().hex, "+15550001111", WEBHOOK)
    channel = TwilioSmsInput(settings)
    channel._sender = TwilioSender(settings, channel.name(),
                                   aioredis.Redis.from_url(dead_redis, socket_connect_timeout=1))
    channel._pipeline = Pipeline(aioredis.Redis.from_url(dead_redis, socket_connect_timeout=1))
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "From": "+221770000001", "Body": "bonjour"}
    signature = RequestValidator(settings.auth_token).compute_signature(WEBHOOK, params)
    received: list = []
    with serve(channel, received) as running, caplog.at_level(logging.ERROR):
        reply = requests.post(f"{running.url}/webhooks/twilio_sms/webhook", data=params,
                              headers={"X-Twilio-Signature": signature}, timeout=10)
    assert reply.status_code == 503 and reply.text == "temporarily unavailable"
    assert received == [] and "Redis is unavailable" in caplog.text


def test_a_telegram_update_while_redis_is_down_gets_a_503(dead_redis):
    settings = TelegramSettings("1:token", SECRET)
    channel = TelegramInput(settings)
    channel._sender = TelegramSender(settings,
                                     aioredis.Redis.from_url(dead_redis, socket_connect_timeout=1))
    channel._pipeline = Pipeline(aioredis.Redis.from_url(dead_redis, socket_connect_timeout=1))
    update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "bonjour",
                                          "chat": {"id": 5, "type": "private"}}}
    received: list = []
    with serve(channel, received) as running:
        reply = requests.post(f"{running.url}/webhooks/telegram/webhook", json=update,
                              headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}, timeout=10)
    assert reply.status_code == 503 and reply.json() == {"error": "temporarily unavailable"}
    assert received == []


def test_the_rest_outbox_while_redis_is_down_gets_a_503(dead_redis):
    channel = RestInput()
    channel._outbox = Outbox(dead_redis)
    with serve(channel, []) as running:
        reply = requests.get(f"{running.url}/webhooks/rest/outbox", params={"sender": "awa"},
                             timeout=10)
    assert reply.status_code == 503 and "try again" in reply.json()["error"]
