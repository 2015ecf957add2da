"""A company embeds the assistant on its own site with rasa-webchat 1.0.1 (npm's UMD bundle,
fetched by scripts/ensure-test-packages into .teranga/npm), the page served from another
origin than the Rasa server's, in headless Chromium: the greeting its initPayload asks for in
the page's language, a reply to typed text, a button, an image, a hand-over and an agent's
reply, a reload that keeps the conversation, and the hand-back to the bot, which asks whether
the matter was solved. And, over the socket itself: a payload for an intent clients may not
send stays text."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect, sync_playwright

from teranga.settings import PROJECT_ROOT
from tests.e2e.desk_client import AgentSession, responses, send_as_bot, tracker, wait_until
from tests.e2e.other_site import HTML, other_site
from tests.e2e.test_desk_browser import CHROMIUM, CHROMIUM_FLAGS, SCREENSHOT
from tests.e2e.test_webchat import Visit

pytestmark = pytest.mark.e2e
BUNDLE = PROJECT_ROOT / ".teranga" / "npm" / "rasa-webchat-1.0.1" / "package" / "lib" / "index.js"
SHOWN = 20_000  # ms: rasa-webchat shows a reply after a typing delay; the NLU takes a moment
PAGE = """<!doctype html>
<html lang="wo"><head><meta charset="utf-8"><title>Butig SunuTel</title></head>
<body><h1>Butig SunuTel</h1>
<script src="/rasa-webchat.js"></script>
<script>
  WebChat.default({
    initPayload: "/greet",
    customData: {language: "wo"},
    socketUrl: "%(rasa)s",
    socketPath: "/socket.io/",
    title: "SunuTel",
    embedded: true,
    params: {storage: "local"},
  }, null);
</script></body></html>
"""


def _png(width: int = 96, height: int = 48) -> bytes:
    """An orange PNG, for the image a bot sends."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(b"\x00" + b"\xff\x80\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def shop_site(server) -> Iterator[str]:
    """The company's site: another origin (another port) than the Rasa server's, serving a
    page that embeds rasa-webchat, the bundle itself, and an image."""
    if not BUNDLE.exists():
        pytest.fail("rasa-webchat is missing: `make test` fetches it "
                    "(scripts/ensure-test-packages)")
    files = {"/": (HTML, (PAGE % {"rasa": server.rasa_url}).encode()),
             "/rasa-webchat.js": ("text/javascript", BUNDLE.read_bytes()),
             "/offer.png": ("image/png", _png())}

    with other_site(files) as site:
        yield site


def session_of(page: Page) -> str:
    """The conversation id rasa-webchat keeps in the page's storage."""
    return page.evaluate("JSON.parse(localStorage.getItem('chat_session')).session_id")


def screenshot(page: Page, name: str) -> None:
    shot = SCREENSHOT.with_name(name)
    page.screenshot(path=str(shot))
    print(f"rasa-webchat screenshot: {shot}")


def type_in(page: Page, text: str) -> None:
    page.locator(".rw-new-message").fill(text)
    page.locator(".rw-new-message").press("Enter")


def test_the_web_chat_lets_other_sites_pages_in(server, shop_site):
    """The socket's handshake answers another origin's page with CORS headers (the default,
    `*`: any site may embed the chat), and sets no cookie."""
    reply = requests.get(f"{server.rasa_url}/socket.io/",
                         params={"EIO": "4", "transport": "polling"},
                         headers={"Origin": shop_site}, timeout=10)
    assert reply.status_code == 200, reply.text
    assert reply.headers["Access-Control-Allow-Origin"] in ("*", shop_site)
    assert "Access-Control-Allow-Credentials" not in reply.headers
    assert "Set-Cookie" not in reply.headers


def test_rasa_webchat_on_another_site(server, shop_site):
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium package")
    wolof = responses("wo")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 760})
            logs: list[str] = []
            page.on("console", lambda message: logs.append(message.text))
            page.goto(shop_site, wait_until="domcontentloaded")
            bot = page.locator(".rw-response")

            # initPayload "/greet": the greeting, in the language the page says (customData).
            expect(bot.first).to_have_text(wolof["utter_greet"], timeout=SHOWN)
            conversation = session_of(page)
            assert conversation.startswith("web:"), logs
            opened = tracker(server.rasa_url, conversation)
            greet = next(e for e in opened["events"] if e["event"] == "user")
            assert greet["text"] == "/greet"
            assert greet["parse_data"]["intent"] == {"name": "greet", "confidence": 1.0}
            assert opened["slots"]["language"] == "wo"
            screenshot(page, "rasa-webchat-greeting.png")

            # A button (rasa-webchat's quick replies), clicked: its payload is an intent
            # clients may send, answered as Rasa defines it.
            send_as_bot(server.rasa_url, conversation, {
                "text": "Bëgg nga ñu nuyoo ?",
                "data": {"buttons": [{"title": "Waaw", "payload": "/greet"}]}})
            choice = page.locator(".rw-reply", has_text="Waaw")
            expect(choice).to_be_visible(timeout=SHOWN)
            screenshot(page, "rasa-webchat-button.png")
            choice.click()
            expect(bot.filter(has_text=wolof["utter_greet"])).to_have_count(2, timeout=SHOWN)

            # An image.
            image = f"{shop_site}/offer.png"
            send_as_bot(server.rasa_url, conversation, {"data": {"image": image}})
            expect(page.locator("img.rw-image-frame")).to_have_attribute(
                "src", image, timeout=SHOWN)

            # Typed text, which asks for a person: the bot's reply, then the hand-over.
            type_in(page, "dama begg wax ak nit ku degg")
            expect(bot.last).to_have_text(wolof["utter_handoff_no_agent_here"], timeout=SHOWN)
            awa = AgentSession(server.desk_url, "awa")
            wait_until(lambda: conversation in [
                c["conversation_id"] for c in awa.get("/api/queue").json()["waiting"]])
            assert awa.act(conversation, "claim").ok
            assert awa.act(conversation, "reply", text="Jàmm nga am, Awa laa.").ok
            expect(bot.last).to_have_text("Awa Diop: Jàmm nga am, Awa laa.", timeout=SHOWN)
            expect(bot.last.locator("strong")).to_have_text("Awa Diop")
            screenshot(page, "rasa-webchat-agent.png")

            # A reload: rasa-webchat asks for its conversation again, and gets it.
            page.reload(wait_until="domcontentloaded")
            expect(bot.last).to_have_text("Awa Diop: Jàmm nga am, Awa laa.", timeout=SHOWN)
            assert session_of(page) == conversation
            assert awa.act(conversation, "reply", text="Lan laa la mën a defal ?").ok
            expect(bot.last).to_have_text("Awa Diop: Lan laa la mën a defal ?", timeout=SHOWN)
            type_in(page, "sama xaalis dafa rëcc")
            wait_until(lambda: any(e["event"] == "user" and e["text"] == "sama xaalis dafa rëcc"
                                   for e in tracker(server.rasa_url, conversation)["events"]))
            # rasa-webchat sends the greeting payload only for a new conversation.
            assert sum(e["event"] == "user" and e["text"] == "/greet" for e in
                       tracker(server.rasa_url, conversation)["events"]) == 2
            screenshot(page, "rasa-webchat-reloaded.png")

            # And back: Awa hands the conversation back, the bot asks whether it was solved.
            assert awa.act(conversation, "return").ok
            expect(bot.last).to_have_text(wolof["utter_ask_satisfaction"], timeout=SHOWN)
            type_in(page, "waaw waaw")
            expect(bot.last).to_have_text(wolof["utter_satisfaction_thanks"], timeout=SHOWN)
            screenshot(page, "rasa-webchat-handed-back.png")
        finally:
            browser.close()


def test_a_payload_for_an_intent_clients_may_not_send_stays_text(server):
    """Only the web chat's `client_intents` (credentials.yml: greet) are read as intents;
    `/restart` or `/request_human` from a client is text, its slash escaped."""
    with Visit(server.rasa_url) as visit:
        session_id, _ = visit.new_session()
        for text in ("/restart", "/request_human"):
            ack = visit.call("user_uttered", {"message": text, "session_id": session_id,
                                              "customData": {"language": "fr"}})
            assert ack["status"] == "sent"
            visit.event("bot_uttered")  # answered as text is

        def said() -> list[dict]:
            events = tracker(server.rasa_url, session_id)["events"]
            return [e for e in events if e["event"] == "user"]

        wait_until(lambda: len(said()) == 2)
    assert [e["text"] for e in said()] == ["\u2215restart", "\u2215request_human"]
    assert [e["parse_data"]["intent"]["name"] for e in said()][0] != "restart"
    assert not any(e["event"] == "restart"
                   for e in tracker(server.rasa_url, session_id)["events"])
