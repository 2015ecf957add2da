"""A graceful stop (SIGTERM, as `teranga demo`, systemd or Kubernetes send it) finishes the
messages a Rasa process accepted: a provider that got its 200 is owed a reply."""

from __future__ import annotations

import signal
import time

import pytest
import requests

from teranga import runtime
from tests.e2e.conftest import TELEGRAM_SECRET
from tests.e2e.desk_client import responses, wait_until

pytestmark = pytest.mark.e2e


def test_a_stopping_rasa_process_sends_the_replies_it_owes(server, trained_model,
                                                          fake_telegram):
    port = runtime.free_port()
    server.start_rasa("rasa-stopping", trained_model, port)
    process = server.processes["rasa-stopping"]
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: runtime.answers(f"{url}/status"), timeout=180, step=0.5)
        chat_ids = [int(time.time() * 1000) % 10**9 + n for n in range(3)]
        for chat_id in chat_ids:
            reply = requests.post(f"{url}/webhooks/telegram/webhook",
                                  json=fake_telegram.update(chat_id, "bonjour"),
                                  headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
                                  timeout=10)
            assert reply.ok
        process.send_signal(signal.SIGTERM)  # right after Telegram was told "we have it"
        assert process.wait(30) == 0
        for chat_id in chat_ids:
            assert fake_telegram.wait_for(chat_id, timeout=5) == [responses("fr")["utter_greet"]]
    finally:
        if process.poll() is None:
            process.kill()
        server.processes.pop("rasa-stopping", None)

