"""Metrics and health of the running servers (issue 19): a customer's message, a hand-over
and an agent taking it move each server's counters by exactly what they did; readiness
follows Redis."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import uuid

import pytest
import redis
import requests
from prometheus_client.parser import text_string_to_metric_families

from teranga import redis_keys, runtime
from teranga.settings import PROJECT_ROOT
from tests.blocking import ConversationRecords
from tests.e2e.desk_client import SAMPLE_MESSAGES, AgentSession, collect_until, say, wait_until
from tests.e2e.test_twilio import deliver, phone

pytestmark = pytest.mark.e2e

Samples = dict[tuple[str, frozenset], float]


def scrape(url: str) -> Samples:
    """A server's /metrics, read without any token, as Prometheus reads it."""
    answer = requests.get(f"{url}/metrics", timeout=10)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(answer.text)
            for sample in family.samples}


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_a_hand_over_moves_each_servers_metrics_by_what_it_did(server, real_redis_url,
                                                                sender):
    rasa, actions, desk = server.rasa_url, server.settings.actions_url, server.desk_url
    before = {url: scrape(url) for url in (rasa, actions, desk)}
    assert say(rasa, sender, "je veux parler a un conseiller svp")
    wait_until(lambda: ConversationRecords(redis.Redis.from_url(real_redis_url)).get(sender))
    queued = {url: scrape(url) for url in (rasa, actions, desk)}

    assert moved(before[rasa], queued[rasa], "teranga_messages_received_total",
                 channel="rest", language="fr") == 1
    assert moved(before[rasa], queued[rasa], "teranga_reply_seconds_count", channel="rest") == 1
    assert moved(before[actions], queued[actions], "teranga_handoffs_total",
                 reason="asked_for_person") == 1
    assert moved(before[actions], queued[actions], "teranga_action_seconds_count",
                 action="action_handoff") == 1
    assert moved(before[desk], queued[desk], "teranga_handoff_queue_depth") == 1
    # Each process exports its own part only.
    assert not any(name == "teranga_handoff_queue_depth" for name, _ in queued[rasa])
    assert ("process_resident_memory_bytes", frozenset()) in queued[actions]

    fatou = AgentSession(desk, "fatou")
    assert fatou.act(sender, "claim").status_code == 200
    collect_until(rasa, sender, lambda messages: messages)  # "Fatou has joined", via the outbox
    taken = {url: scrape(url) for url in (rasa, desk)}
    assert moved(queued[desk], taken[desk], "teranga_handoff_wait_seconds_count") == 1
    assert moved(queued[desk], taken[desk], "teranga_handoff_queue_depth") == -1
    assert moved(queued[rasa], taken[rasa], "teranga_deliveries_total",
                 channel="rest", outcome="sent") == 1
    assert moved(queued[rasa], taken[rasa], "teranga_messages_received_total",
                 channel="rest", language="fr") == 0  # the desk's events are not messages
    assert fatou.act(sender, "close").status_code == 200


def test_an_sms_through_the_queues_is_counted_once_with_its_lag(server, fake_twilio,
                                                                 real_redis_url):
    rasa, customer = server.rasa_url, phone()
    delivery = redis.Redis.from_url(real_redis_url)
    before = scrape(rasa)
    assert deliver(server, fake_twilio, "twilio_sms", customer,
                   SAMPLE_MESSAGES["fr"]).status_code == 200
    # Its replies queued (with the intake's entry done), then every one sent (a delivery
    # entry is deleted once sent): an SMS may leave in several parts.
    wait_until(lambda: moved(before, scrape(rasa), "teranga_reply_seconds_count",
                             channel="twilio_sms") == 1)
    wait_until(lambda: delivery.xlen(redis_keys.queue("delivery")) == 0)
    after = scrape(rasa)
    assert moved(before, after, "teranga_deliveries_total", channel="twilio_sms",
                 outcome="sent") == len(fake_twilio.to(customer)) > 0
    assert moved(before, after, "teranga_messages_received_total", channel="twilio_sms",
                 language="fr") == 1
    assert moved(before, after, "teranga_intake_lag_seconds_count", channel="twilio_sms") == 1


def test_every_server_is_live_and_ready(server):
    for url in (server.rasa_url, server.settings.actions_url, server.desk_url):
        assert requests.get(f"{url}/health/live", timeout=10).json() == {"status": "ok"}
        ready = requests.get(f"{url}/health/ready", timeout=10)
        assert ready.status_code == 200 and ready.json()["status"] == "ok", ready.text
    checks = requests.get(f"{server.settings.actions_url}/health/ready", timeout=10).json()
    assert set(checks["checks"]) == {"redis", "knowledge_base"}


def test_a_desk_whose_redis_stops_is_live_but_not_ready_and_logs_in_json(server, tmp_path):
    redis_port, desk_port = runtime.free_port(), runtime.free_port()
    own_redis = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    env = {**os.environ, "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
           "TERANGA_DESK_CONSUMER": f"ready-{uuid.uuid4().hex[:6]}",
           "PYTHONPATH": str(PROJECT_ROOT), "TERANGA_LOG_FORMAT": "json"}
    log = tmp_path / "desk.log"
    desk = subprocess.Popen(
        [sys.executable, "-m", "teranga", "desk", "--port", str(desk_port),
         "--rasa-url", server.rasa_url], env=env, cwd=PROJECT_ROOT,
        stdout=log.open("ab"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{desk_port}"
    try:
        wait_until(lambda: runtime.answers(f"{url}/health/ready"), timeout=60)
        own_redis.send_signal(signal.SIGTERM)
        own_redis.wait(10)
        ready = requests.get(f"{url}/health/ready", timeout=10)
        assert ready.status_code == 503 and set(ready.json()["failing"]) == {"redis"}
        assert requests.get(f"{url}/health/live", timeout=10).status_code == 200
    finally:
        for process in (desk, own_redis):
            process.terminate()
            process.wait(20)
    # Its own lines and Sanic's, before and after Sanic set up its loggers: all JSON.
    lines = [json.loads(line) for line in log.read_text("utf-8").splitlines()
             if line.startswith("{")]
    assert {line["process"] for line in lines} == {"desk"}
    assert {"teranga", "sanic"} <= {line["logger"].split(".")[0] for line in lines}
    assert not re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ ",
                         log.read_text("utf-8"), re.MULTILINE)  # no line in the text format
