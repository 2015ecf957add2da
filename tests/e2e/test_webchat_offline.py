"""Nothing a customer or an agent sends is lost while the customer is away: the web chat
widget keeps what it could not send and sends it once when it is back, shows what was said
while its page was closed, and the REST outbox keeps every message its client has not read.

The widget runs in Debian's Chromium on a small local site that embeds it as a company's site
would (the demo page, the script from the assistant's address); its WebSocket goes through a
local TCP proxy that the tests cut (every connection closed, new ones refused) and restore.
(A page the test itself fulfilled could not open a loopback socket: Chromium's Local Network
Access checks block it.)"""

from __future__ import annotations

import socket
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from teranga.channels.widget import STATIC
from tests.e2e.desk_client import (
    AgentSession,
    collect,
    from_agents,
    responses,
    say,
    settled,
    tracker,
    wait_until,
)
from tests.e2e.other_site import HTML, other_site
from tests.e2e.test_desk_browser import CHROMIUM, CHROMIUM_FLAGS, SCREENSHOT
from tests.e2e.test_webchat import Visit

pytestmark = pytest.mark.e2e


class CuttableProxy:
    """127.0.0.1:<port> forwarded to another local port, until `cut()`."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.accepted = 0
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut(self) -> None:
        """Every connection closed at once, and new ones refused, as when a phone loses its
        network."""
        self.up = False
        with self._lock:
            for conn in self._open:
                _close(conn)
            self._open.clear()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.listener.close()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                _close(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                _close(client)
                continue
            self.accepted += 1
            with self._lock:
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(source)
                self._open.discard(sink)
            _close(source)
            _close(sink)


def _close(conn: socket.socket) -> None:
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    conn.close()


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def site_with_the_widget(rasa_url: str, socket_server: str):
    """A company's page that embeds the widget (the script from the assistant's address),
    whose widget talks to `socket_server`; the page itself stays reachable."""
    html = (STATIC / "demo.html").read_text("utf-8").replace(
        '<script src="/webhooks/socketio/widget.js"',
        f'<script src="{rasa_url}/webhooks/socketio/widget.js" data-server="{socket_server}"'
    ).encode()
    assert b"data-server" in html, "the demo page no longer loads the widget as expected"

    with other_site({"/": (HTML, html)}) as site:
        yield f"{site}/"


def shown(chat) -> list[tuple[str, str]]:
    """What the panel shows, in order: (who, text), without the delivery notes."""
    return [(item["kind"], item["text"]) for item in chat.locator("li").evaluate_all(
        """items => items.map(li => ({kind: li.className,
              text: Array.from(li.childNodes).filter(n => n.nodeType === Node.TEXT_NODE)
                         .map(n => n.textContent).join("")}))""")]


def customer_said(rasa_url: str, conversation: str, text: str) -> int:
    return sum(1 for event in tracker(rasa_url, conversation)["events"]
               if event["event"] == "user" and event.get("text") == text)


def test_a_message_typed_while_the_socket_is_down_reaches_the_bot_once(server, browser,
                                                                       sender):
    question = "jai perdu ma puce hier soir, que dois je faire"
    say(server.rasa_url, sender, "bonjour")
    answer = say(server.rasa_url, sender, question)  # what the bot says to it (REST)
    proxy = CuttableProxy(server.settings.rasa_port)
    try:
        with site_with_the_widget(server.rasa_url, proxy.url) as site:
            page = browser.new_context().new_page()
            page.goto(site)
            chat = page.locator("#teranga-chat")
            status = chat.locator("[role=status]")
            chat.locator("input").fill("bonjour")
            chat.locator("input").press("Enter")
            expect(chat.locator("li.bot").first).to_have_text(responses("fr")["utter_greet"])
            expect(chat.locator("li.me").first).to_have_attribute("data-state", "sent")
            conversation = page.evaluate("localStorage.getItem('teranga_session')")

            proxy.cut()
            expect(status).to_have_text("Reconnecting…")
            chat.locator("input").fill(question)
            chat.locator("input").press("Enter")
            mine = chat.locator("li.me").last
            expect(mine).to_have_attribute("data-state", "sending")
            expect(mine).to_contain_text("Sending…")

            page.reload()  # the unsent message survives a reload
            chat = page.locator("#teranga-chat")
            mine = chat.locator("li.me").last
            expect(mine).to_contain_text(question)
            expect(mine).to_have_attribute("data-state", "sending")
            expect(chat.locator("[role=status]")).to_have_text("Reconnecting…")
            page.wait_for_timeout(1500)
            assert customer_said(server.rasa_url, conversation, question) == 0
            shot = SCREENSHOT.with_name("webchat-offline.png")
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot))
            print(f"web chat screenshot, offline: {shot}")

            proxy.restore()
            expect(mine).to_have_attribute("data-state", "sent", timeout=30_000)
            expect(chat.locator("[role=status]")).to_have_text("")
            expect(chat.locator("li.bot").last).to_have_text(answer[-1], timeout=20_000)
            page.wait_for_timeout(1500)  # a second copy would have been answered by now
            assert customer_said(server.rasa_url, conversation, question) == 1
            assert shown(chat) == [("me", "bonjour"), ("bot", responses("fr")["utter_greet"]),
                                   ("me", question), *[("bot", text) for text in answer]]
            assert page.evaluate("JSON.parse(localStorage.getItem('teranga_pending') || '[]')") \
                == []
    finally:
        proxy.close()


def test_what_was_said_while_the_page_was_closed_is_shown_when_it_opens(server, browser):
    fr = responses("fr")
    proxy = CuttableProxy(server.settings.rasa_port)
    with site_with_the_widget(server.rasa_url, proxy.url) as site:
        context = browser.new_context()
        page = context.new_page()
        page.goto(site)
        chat = page.locator("#teranga-chat")
        chat.locator("input").fill("bonjour")
        chat.locator("input").press("Enter")
        expect(chat.locator("li.bot").first).to_have_text(fr["utter_greet"])
        chat.locator("input").fill("je veux parler a un conseiller svp")
        chat.locator("input").press("Enter")
        expect(chat.locator("li.bot").last).to_have_text(fr["utter_handoff_no_agent_here"])
        conversation = page.evaluate("localStorage.getItem('teranga_session')")
        page.close()

        fatou = AgentSession(server.desk_url, "fatou")
        wait_until(lambda: conversation in [
            c["conversation_id"] for c in fatou.get("/api/queue").json()["waiting"]])
        assert fatou.act(conversation, "claim").ok
        try:
            _agent_writes_while_the_customer_is_away(fatou, conversation, context, site, proxy)
        finally:  # Fatou is free for the other tests, whatever happened
            fatou.act(conversation, "close")
            proxy.close()


def _agent_writes_while_the_customer_is_away(fatou, conversation, context, site, proxy):
    fr = responses("fr")
    assert fatou.act(conversation, "reply", text="Bonjour, ici Fatou. Je m'en occupe.").ok
    said = [("me", "bonjour"), ("bot", fr["utter_greet"]),
            ("me", "je veux parler a un conseiller svp"),
            ("bot", fr["utter_handoff_no_agent_here"]),
            ("bot", fr["utter_agent_joined"].replace("{agent_name}", "Fatou Sarr")),
            ("agent", "Bonjour, ici Fatou. Je m'en occupe.")]
    page = context.new_page()
    page.goto(site)
    chat = page.locator("#teranga-chat")
    expect(chat.locator("li.agent")).to_contain_text("Bonjour, ici Fatou. Je m'en occupe.")
    expect(chat.locator("li.agent small")).to_have_text("Fatou Sarr")
    assert shown(chat) == said

    # Live now, then again after a reload: each message once.
    assert fatou.act(conversation, "reply", text="Quel est votre numero ?").ok
    said.append(("agent", "Quel est votre numero ?"))
    expect(chat.locator("li.agent").last).to_contain_text("Quel est votre numero ?")
    page.reload()
    chat = page.locator("#teranga-chat")
    expect(chat.locator("li.agent").last).to_contain_text("Quel est votre numero ?")
    page.wait_for_timeout(1000)
    assert shown(chat) == said

    # Written while the page's connection is down: shown once it is back.
    proxy.cut()
    expect(chat.locator("[role=status]")).to_have_text("Reconnecting…")
    assert fatou.act(conversation, "reply", text="Etes-vous toujours la ?").ok
    said.append(("agent", "Etes-vous toujours la ?"))
    proxy.restore()
    expect(chat.locator("li.agent").last).to_contain_text("Etes-vous toujours la ?",
                                                          timeout=30_000)
    expect(chat.locator("[role=status]")).to_have_text("")
    page.wait_for_timeout(1000)
    assert shown(chat) == said

    # The satisfaction question comes with the conversation it asks about.
    assert fatou.act(conversation, "return").ok
    expect(chat.locator("li.bot").last).to_have_text(fr["utter_ask_satisfaction"])
    page.wait_for_timeout(1000)
    assert shown(chat) == [*said, ("bot", fr["utter_back_with_bot"]),
                           ("bot", fr["utter_ask_satisfaction"])]


def test_a_resent_message_is_one_turn(server):
    """A widget that did not hear the ack sends the same message again, with the same client
    message id: each copy is acknowledged, and the bot answers once."""
    with Visit(server.rasa_url) as visit:
        session_id, _history = visit.new_session()
        message = {"message": "bonjour", "session_id": session_id,
                   "client_id": uuid.uuid4().hex}
        acks = [visit.call("user_uttered", message) for _ in range(3)]
        assert visit.event("bot_uttered")["text"] == responses("fr")["utter_greet"]
        wait_until(lambda: settled(server.redis_url, session_id))  # every copy handled
        assert visit.quiet(0) == []  # no second answer
    assert [ack["status"] for ack in acks] == ["sent"] * 3
    events = tracker(server.rasa_url, session_id)["events"]
    assert [e["text"] for e in events if e["event"] == "user"] == ["bonjour"]
    assert [e["text"] for e in events if e["event"] == "bot"] == [responses("fr")["utter_greet"]]


def test_the_rest_outbox_keeps_every_unread_message(server, sender):
    """More messages than the outbox used to keep (about 200) wait for a REST client that
    does not read them: every one is there when it does."""
    say(server.rasa_url, sender, "je veux parler a un conseiller svp")
    fatou = AgentSession(server.desk_url, "fatou")
    wait_until(lambda: sender in [
        c["conversation_id"] for c in fatou.get("/api/queue").json()["waiting"]])
    assert fatou.act(sender, "claim").ok
    sent = [f"message {number}" for number in range(320)]
    try:
        for text in sent:
            assert fatou.act(sender, "reply", text=text).ok
    finally:
        fatou.act(sender, "close")

    received: list[dict] = []
    after = "0"
    while len(from_agents(received)) < len(sent):
        batch = collect(server.rasa_url, sender, after=after, wait=10)
        if not batch:
            break
        received += batch
        after = batch[-1]["id"]
    assert [m["text"] for m in from_agents(received)] == sent  # between the desk's notices
