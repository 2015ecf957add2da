"""The web chat: Rasa's socket.io protocol with a socket.io client (as Rasa web-chat widgets
speak it), and the project's widget on its demo page in headless Chromium, through a
hand-over to an agent whose reply appears in the widget."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import websockets
from playwright.sync_api import expect, sync_playwright

from tests.e2e.desk_client import AgentSession, responses, wait_until
from tests.e2e.test_desk_browser import CHROMIUM, CHROMIUM_FLAGS, SCREENSHOT

pytestmark = pytest.mark.e2e


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
    assert reply == {"event": "bot_uttered", "text": responses("fr")["utter_greet"]}


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
