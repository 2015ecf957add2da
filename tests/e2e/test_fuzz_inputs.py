"""Property-based tests of every public input of the running assistant: REST bodies, signed
Twilio forms, Telegram updates with the secret, socket.io events and the desk's API. Whatever
arrives, the answer is never a 5xx (503 aside, which says "try again"), nothing crashes, no
traceback reaches the log, and the servers answer afterwards.

The bounded run is part of `make test`; `make fuzz` runs many more inputs
(TERANGA_FUZZ_EXAMPLES)."""

from __future__ import annotations

import json
import string
import time
import uuid
from pathlib import Path

import pytest
import requests
import socketio
from hypothesis import given
from hypothesis import strategies as st

from tests.e2e.conftest import PUBLIC_URL, TELEGRAM_SECRET
from tests.e2e.desk_client import AgentSession, responses, say
from tests.fuzz.settings import fuzz

pytestmark = pytest.mark.e2e

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children,
                                                                      max_size=5),
    max_leaves=20)
# Any Unicode, including what expands under normalisation, control characters and emoji.
texts = st.text(max_size=300) | st.sampled_from(["\ufdfa" * 40, "😡" * 600, "\u0000",
                                                 "\u202e" * 50, "a\u0301" * 300])
ids = st.text(max_size=40) | st.sampled_from(["whatsapp:+221770032060", "+221770032060",
                                              "telegram:1", f"web:{'0' * 32}", ""])


def not_a_failure(reply: requests.Response) -> bool:
    return reply.status_code < 500 or reply.status_code == 503


@pytest.fixture
def log_watch(server):
    """The Rasa and desk logs must not show a traceback for anything these tests send."""
    logs = [Path(server.log_dir) / f"{name}.log" for name in ("rasa", "desk")]
    sizes = {log: log.stat().st_size for log in logs}
    yield
    for log in logs:
        with log.open("rb") as file:
            file.seek(sizes[log])
            added = file.read().decode("utf-8", "replace")
        assert "Traceback" not in added, added[added.index("Traceback") - 2000:][:6000]
    assert all(p.poll() is None for p in server.processes.values())
    assert say(server.rasa_url, f"fuzz-{uuid.uuid4().hex[:8]}", "bonjour") == [
        responses("fr")["utter_greet"]]


@st.composite
def rest_bodies(draw) -> bytes:
    shape = draw(st.sampled_from(["bytes", "json", "request"]))
    if shape == "bytes":
        return draw(st.binary(max_size=500))
    if shape == "json":
        return json.dumps(draw(json_values)).encode()
    body = {"sender": draw(ids | st.builds(lambda: f"fuzz-{uuid.uuid4().hex[:8]}")),
            "message": draw(texts | json_values), "metadata": draw(json_values)}
    keep = draw(st.sets(st.sampled_from(sorted(body)), min_size=1))
    raw = json.dumps({k: v for k, v in body.items() if k in keep}, ensure_ascii=False)
    return raw.encode("utf-8", "surrogatepass")


@fuzz
@given(body=rest_bodies())
def test_rest_webhook(server, log_watch, body):
    reply = requests.post(f"{server.rasa_url}/webhooks/rest/webhook", data=body, timeout=30)
    assert not_a_failure(reply), (reply.status_code, reply.text[:300])


@fuzz
@given(params=st.dictionaries(st.text(string.ascii_letters + "0123456789", max_size=12),
                              texts, max_size=8),
       sender=ids, body=texts, channel=st.sampled_from(["twilio_sms", "twilio_whatsapp"]))
def test_signed_twilio_webhooks(server, fake_twilio, log_watch, params, sender, body, channel):
    form = {**params, "MessageSid": f"SM{uuid.uuid4().hex}", "From": sender, "Body": body}
    form = {k: v.encode("utf-8", "replace").decode() for k, v in form.items()}
    signature = fake_twilio.sign(f"{PUBLIC_URL}/webhooks/{channel}/webhook", form)
    reply = requests.post(f"{server.rasa_url}/webhooks/{channel}/webhook", data=form,
                          headers={"X-Twilio-Signature": signature}, timeout=30)
    assert not_a_failure(reply), (reply.status_code, reply.text[:300])


@st.composite
def telegram_updates(draw):
    """Updates shaped like Telegram's, with any field of any type, or anything at all."""
    if draw(st.booleans()):
        return draw(json_values)
    message = {"message_id": draw(st.integers() | json_values), "date": 0,
               "chat": draw(st.fixed_dictionaries({"id": st.integers() | json_values})
                            | json_values),
               "text": draw(texts | json_values),
               "from": draw(st.fixed_dictionaries({"id": st.integers(), "is_bot": st.booleans(),
                                                   "first_name": texts}) | json_values)}
    update = {"update_id": draw(st.integers() | json_values),
              draw(st.sampled_from(["message", "edited_message", "callback_query"])): message}
    return update


@fuzz
@given(update=telegram_updates())
def test_telegram_webhook(server, log_watch, update):
    reply = requests.post(f"{server.rasa_url}/webhooks/telegram/webhook",
                          data=json.dumps(update, ensure_ascii=False).encode("utf-8",
                                                                             "surrogatepass"),
                          headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
                                   "Content-Type": "application/json"}, timeout=30)
    assert not_a_failure(reply), (reply.status_code, reply.text[:300])


def _socketio_events(url: str, events: list[tuple[str, object]]) -> None:
    client = socketio.Client(reconnection=False)
    client.connect(url, transports=["websocket"], socketio_path="/socket.io")
    try:
        for name, data in events:
            client.emit(name, data)
        time.sleep(0.2)
    finally:
        client.disconnect()


@fuzz
@given(events=st.lists(st.tuples(st.sampled_from(["session_request", "user_uttered",
                                                  "other"]),
                                 json_values | st.fixed_dictionaries(
                                     {"message": texts | json_values,
                                      "session_id": ids | json_values,
                                      "metadata": json_values})), min_size=1, max_size=4))
def test_socketio_events(server, log_watch, events):
    _socketio_events(server.rasa_url, events)


@pytest.fixture(scope="module")
def supervisor(server):
    return AgentSession(server.desk_url, "sara")


@fuzz
@given(action=st.sampled_from(["claim", "reply", "transfer", "return", "close"]),
       conversation=ids, body=json_values | st.fixed_dictionaries(
           {"text": texts | json_values, "agent": ids | json_values,
            "language": st.text(max_size=5) | json_values}))
def test_desk_api(server, supervisor, log_watch, action, conversation, body):
    path = f"/api/conversations/{requests.utils.quote(conversation, safe='')}/{action}"
    reply = supervisor.http.post(f"{server.desk_url}{path}", data=json.dumps(body), timeout=30)
    assert not_a_failure(reply), (reply.status_code, reply.text[:300])
    presence = supervisor.http.post(f"{server.desk_url}/api/presence", data=json.dumps(body),
                                    timeout=30)
    assert not_a_failure(presence), (presence.status_code, presence.text[:300])
