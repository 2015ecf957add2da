"""Metrics, readiness and JSON log lines (teranga/observability): what each records, on a
real Redis where Redis is involved (the routes: tests/integration/test_observability_routes.py)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import uuid

import pytest
import redis.asyncio as aioredis
from prometheus_client import REGISTRY

from teranga.channels.delivery import DeadLetters, SendError, send_with_retries
from teranga.handoff.ownership import Ownership
from teranga.observability import metrics
from teranga.observability.health import is_true, readiness, redis_answers
from teranga.observability.logs import JsonFormatter, about_conversation, use_log_format


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def json_lines(log) -> list[dict]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("rasa"))
    logger = logging.getLogger(f"teranga.test.{uuid.uuid4().hex}")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    log(logger)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_json_line_has_its_fields_and_the_conversation_masked(masking):
    def log(logger):
        logger.warning("sent to %s", "+221771234567", extra={"conversation": "+221771234567"})
        with about_conversation("whatsapp:+221755866693"):
            logger.info("inside a turn")
        logger.error("no conversation")
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logger.exception("failed")

    first, inside, alone, failed = json_lines(log)
    assert set(first) == {"time", "level", "logger", "message", "process", "conversation"}
    assert first["time"].endswith("Z") and first["time"][10] == "T"
    assert (first["level"], first["process"]) == ("WARNING", "rasa")
    assert first["message"] == "sent to +22177•••••67"
    assert first["conversation"] == "+22177•••••67"
    assert inside["conversation"] == "whatsapp:+22175•••••93"
    assert "conversation" not in alone
    assert "RuntimeError: boom" in failed["exception"]


def test_the_json_format_goes_on_every_handler_and_text_changes_nothing():
    logger = logging.getLogger(f"teranga.test.{uuid.uuid4().hex}")
    handler = logging.StreamHandler(io.StringIO())
    logger.addHandler(handler)
    use_log_format("text", "teranga")
    assert not isinstance(handler.formatter, JsonFormatter)
    root = logging.getLogger()
    saved = {root_handler: root_handler.formatter for root_handler in root.handlers}
    try:
        use_log_format("json", "teranga")
        assert isinstance(handler.formatter, JsonFormatter)
        assert all(isinstance(h.formatter, JsonFormatter) for h in root.handlers)
    finally:  # the other tests' logging as it was
        for root_handler in list(root.handlers):
            if root_handler in saved:
                root_handler.setFormatter(saved[root_handler])
            else:
                root.removeHandler(root_handler)
    with pytest.raises(ValueError, match="TERANGA_LOG_FORMAT"):
        use_log_format("JSON!", "teranga")


def test_labels_take_only_known_values():
    before = value("teranga_messages_received_total", channel="other", language="other")
    known = value("teranga_messages_received_total", channel="twilio_sms", language="wo")
    metrics.message_received("carrier-pigeon", "+221771234567")
    metrics.message_received("twilio_sms", "wo")
    assert value("teranga_messages_received_total", channel="other",
                 language="other") == before + 1
    assert value("teranga_messages_received_total", channel="twilio_sms",
                 language="wo") == known + 1
    before = value("teranga_handoffs_total", reason="other")
    metrics.handed_over(["asked_for_person", "free text", "free text"], ["asked_for_person"])
    assert value("teranga_handoffs_total", reason="other") == before + 1


def test_deliveries_count_each_try_sent_retried_or_given_up(real_redis_url):
    async def scenario():
        client = aioredis.Redis.from_url(real_redis_url)
        tries = iter([SendError("busy", 503), "SM1", SendError("refused", 400)])

        async def send():
            outcome = next(tries)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome

        letter = {"channel": "telegram", "recipient": "telegram:1", "text": "hi"}
        assert await send_with_retries(send, letter, DeadLetters(client), (0.0,)) == "SM1"
        assert await send_with_retries(send, letter, DeadLetters(client), (0.0,)) is None
        await client.close()

    counts = {outcome: value("teranga_deliveries_total", channel="telegram", outcome=outcome)
              for outcome in metrics.DELIVERY_OUTCOMES}
    asyncio.run(scenario())
    assert {outcome: value("teranga_deliveries_total", channel="telegram", outcome=outcome)
            - counts[outcome] for outcome in counts} == {"sent": 1, "retry": 1,
                                                         "dead_letter": 1}


def test_the_wait_for_an_agent_is_observed_once_when_an_agent_takes_it(real_redis_url):
    async def scenario():
        client = aioredis.Redis.from_url(real_redis_url)
        ownership = Ownership(client, prefix=f"test-{uuid.uuid4().hex}")
        assert await ownership.escalate("+221771234567")
        assert await ownership.waiting() == 1
        assert await ownership.assign("+221771234567", "awa")
        assert not await ownership.assign("+221771234567", "fatou")  # taken already
        assert await ownership.waiting() == 0
        await client.close()

    def waits() -> float:  # a desk process's metric: maybe not registered in this one
        return next(sample.value for family in metrics.HANDOFF_WAIT_SECONDS.collect()
                    for sample in family.samples if sample.name.endswith("_count"))

    before = waits()
    asyncio.run(scenario())
    assert waits() - before == 1


def test_ready_only_when_every_check_passes(real_redis_url):
    async def failing() -> bool:
        raise ConnectionError("refused")

    async def scenario():
        client = aioredis.Redis.from_url(real_redis_url)
        ok = await readiness({"redis": redis_answers(lambda: client),
                              "model": is_true(lambda: True)})
        down = await readiness({"redis": failing, "model": is_true(lambda: False)})
        await client.close()
        return ok, down

    (ok_status, ok), (down_status, down) = asyncio.run(scenario())
    assert ok_status == 200 and ok == {"status": "ok", "checks": {"redis": "ok", "model": "ok"}}
    assert down_status == 503 and down["status"] == "unavailable"
    assert down["failing"] == {"redis": "ConnectionError: refused", "model": "not ready"}
