"""The web chat: Rasa's socket.io protocol with a socket.io client (as Rasa web-chat widgets
speak it), the transcript a widget coming back is sent, and the project's widget on its demo
page in headless Chromium, through a hand-over to an agent whose reply appears in the
widget."""

from __future__ import annotations

import asyncio
import json
import queue
import re
import time
import uuid
from pathlib import Path

import pytest
import socketio
import websockets
from playwright.sync_api import expect, sync_playwright

from tests.e2e.desk_client import AgentSession, responses, wait_until
from tests.e2e.test_desk_browser import CHROMIUM, CHROMIUM_FLAGS, SCREENSHOT

pytestmark = pytest.mark.e2e
TRANSCRIPT_ID = re.compile(r"[0-9]+-[0-9]+")


class Visit:
    """A web-chat visit with python-socketio's own client: events in the order they came,
    and acknowledgements (`call`)."""

    EVENTS = ("session_confirm", "transcript", "bot_uttered")

    def __init__(self, rasa_url: str) -> None:
        self.client = socketio.Client(reconnection=False)
        self.arrived: queue.Queue = queue.Queue()
        for name in self.EVENTS:
            self.client.on(name, lambda data, name=name: self.arrived.put((name, data)))
        self.client.connect(rasa_url, transports=["websocket"], socketio_path="/socket.io")

    def __enter__(self) -> Visit:
        return self

    def __exit__(self, *_exc) -> None:
        self.client.disconnect()

    def emit(self, event: str, data: object) -> None:
        self.client.emit(event, data)

    def call(self, event: str, data: object) -> object:
        """Emit asking for an acknowledgement; what the server acknowledged with."""
        return self.client.call(event, data, timeout=10)

    def event(self, name: str, timeout: float = 20) -> object:
        """The next event's data, which must be a `name`."""
        got, data = self.arrived.get(timeout=timeout)
        assert got == name, (got, data)
        return data

    def quiet(self, seconds: float) -> list[tuple[str, object]]:
        """Whatever arrives within `seconds`."""
        time.sleep(seconds)
        events = []
        while not self.arrived.empty():
            events.append(self.arrived.get())
        return events

    def new_session(self, after: object = None) -> tuple[str, list]:
        """A new conversation; (its id, the transcript the server sent)."""
        self.emit("session_request", {"session_id": None, "after": after})
        return self.event("session_confirm"), self.event("transcript")["messages"]


def test_rasa_s_socketio_protocol_is_spoken(server):
    """Socket.IO 5 over Engine.IO 4 (what python-socketio serves, as in Rasa's own channel),
    packet by packet: open, join, session_request / session_confirm, user_uttered /
    bot_uttered."""

    async def talk() -> dict:
        url = server.rasa_url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
        async with websockets.connect(url) as ws:
            assert (await ws.recv()).startswith("0")  # Engine.IO open
            await ws.send("40")
            assert (await ws.recv()).startswith("40")  # Socket.IO connected
            await ws.send("42" + json.dumps(["session_request", {"session_id": None}]))
            event, session_id = json.loads((await ws.recv())[2:])
            assert event == "session_confirm" and session_id.startswith("web:")
            await ws.send("42" + json.dumps(["user_uttered", {"message": "bonjour",
                                                              "session_id": session_id}]))
            while True:
                packet = await asyncio.wait_for(ws.recv(), 20)
                if packet == "2":
                    await ws.send("3")
                    continue
                event, data = json.loads(packet[2:])
                return {"event": event, **data}

    reply = asyncio.run(talk())
    assert TRANSCRIPT_ID.fullmatch(reply.pop("id"))  # where it is in the transcript
    assert reply == {"event": "bot_uttered", "text": responses("fr")["utter_greet"]}


def test_a_widget_coming_back_gets_what_it_missed(server):
    """The transcript: the customer's accepted messages (with their client id) and what the
    widget was sent, replayed after the last id the widget names, to that socket only."""
    greet = responses("fr")["utter_greet"]
    client_id = uuid.uuid4().hex
    with Visit(server.rasa_url) as first:
        session_id, history = first.new_session()
        assert history == []
        ack = first.call("user_uttered", {"message": "bonjour", "client_id": client_id,
                                          "session_id": session_id})
        assert ack["status"] == "sent" and TRANSCRIPT_ID.fullmatch(ack["id"])
        reply = first.event("bot_uttered")
        assert reply["text"] == greet
    said = {"id": ack["id"], "from": "customer", "text": "bonjour", "client_id": client_id}
    answered = {"id": reply["id"], "from": "bot", "text": greet}

    for after, missed in ((None, [said, answered]), (ack["id"], [answered]),
                          (reply["id"], [])):
        with Visit(server.rasa_url) as again:
            again.emit("session_request", {"session_id": session_id, "after": after})
            assert again.event("session_confirm") == session_id
            assert again.event("transcript") == {"session_id": session_id, "messages": missed}

    # A widget that keeps its own history (rasa-webchat) sends no `after`: no replay.
    with Visit(server.rasa_url) as webchat:
        webchat.emit("session_request", {"session_id": session_id})
        assert webchat.event("session_confirm") == session_id
        assert webchat.quiet(1.5) == []

    # An id this server did not issue is a new conversation, with nothing to replay.
    with Visit(server.rasa_url) as stranger:
        stranger.emit("session_request", {"session_id": f"web:{uuid.uuid4().hex}",
                                          "after": None})
        assert stranger.event("session_confirm") != session_id
        assert stranger.event("transcript")["messages"] == []


def test_a_customer_chats_in_the_widget_and_an_agent_answers(server, real_redis_url):
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 720})
            page.goto(f"{server.rasa_url}/webhooks/socketio/demo")
            chat = page.locator("#teranga-chat")
            chat.locator("input").fill("bonjour")
            chat.locator("input").press("Enter")
            expect(chat.locator("li.bot").first).to_have_text(responses("fr")["utter_greet"])
            chat.locator("input").fill("je veux parler a un conseiller svp")
            chat.locator("input").press("Enter")
            expect(chat.locator("li.bot").last).to_have_text(responses("fr")["utter_handoff_no_agent_here"])

            conversation = page.evaluate("localStorage.getItem('teranga_session')")
            fatou = AgentSession(server.desk_url, "fatou")
            wait_until(lambda: conversation in [
                c["conversation_id"] for c in fatou.get("/api/queue").json()["waiting"]])
            assert fatou.act(conversation, "claim").ok
            assert fatou.act(conversation, "reply", text="Bonjour, ici Fatou. Je m'en occupe.").ok
            expect(chat.locator("li.agent")).to_contain_text("Bonjour, ici Fatou. Je m'en occupe.")
            expect(chat.locator("li.agent small")).to_have_text("Fatou Sarr")
            shot = SCREENSHOT.with_name("webchat.png")
            page.screenshot(path=str(shot))
            print(f"web chat screenshot: {shot}")
            assert fatou.act(conversation, "close").ok
        finally:
            browser.close()
