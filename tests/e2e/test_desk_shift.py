"""A real shift at the desk, in headless Chromium (Debian's) driven by Playwright: an agent
works five chats at once (unread counts, keyboard, knowledge-base suggestions, notes), a
supervisor takes a chat over, the customer hears who joined, and an unanswered chat warns
before it goes back to the queue. One browser for the file; each agent has their own context.
Screenshots at 1366x768 in .teranga/screenshots/."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
import redis
import yaml
from playwright.sync_api import expect, sync_playwright

from teranga.handoff.agents import AgentDirectory
from teranga.settings import PROJECT_ROOT
from tests.e2e.desk_client import PASSWORD, AgentSession, collect, say, wait_until
from tests.e2e.test_desk_browser import CHROMIUM, CHROMIUM_FLAGS

pytestmark = pytest.mark.e2e

VIEWPORT = {"width": 1366, "height": 768}
SCREENSHOTS = PROJECT_ROOT / ".teranga" / "screenshots"
TITLE = "Teranga desk"
ASK_FOR_PERSON = "je veux parler a un conseiller svp"
# The shift's agents: Awa holds five French chats, Fatou tries the answer timeout, Sara
# supervises. Nobody else is given a French chat meanwhile: they are away.
AWA, AWA_NAME, FATOU, SARA, SARA_NAME = "awa", "Awa Diop", "fatou", "sara", "Sara Ndiaye"
LONG_TIMEOUT = {"answer_timeout_seconds": 900, "answer_warning_seconds": 30}
SHORT_TIMEOUT = {"answer_timeout_seconds": 14, "answer_warning_seconds": 10}


class Customer:
    """A customer on the REST channel, reading what reaches them from the outbox."""

    def __init__(self, rasa_url: str, sender: str) -> None:
        self.rasa_url, self.sender, self.read_to = rasa_url, sender, "0"

    def says(self, text: str) -> list[str]:
        return say(self.rasa_url, self.sender, text)

    def receives(self, wanted, timeout: float = 15) -> list[str]:
        """What reached the customer since the last read, until `wanted(texts)` holds."""
        texts, deadline = [], time.monotonic() + timeout
        while not wanted(texts):
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.sender} received only {texts}")
            for message in collect(self.rasa_url, self.sender, after=self.read_to, wait=2):
                texts.append(message.get("text") or "")
                self.read_to = message["id"]
        return texts

    def drain(self) -> None:
        """Skip what reached them so far."""
        for message in collect(self.rasa_url, self.sender, after=self.read_to, wait=1):
            self.read_to = message["id"]


def _write_settings(path: Path, original: str, **values) -> None:
    settings = yaml.safe_load(original)
    settings.update(values)
    path.write_text(yaml.safe_dump(settings), "utf-8")
    time.sleep(1.1)  # the desk and the action server see the change by its modification time


def _escalate(server, first: str) -> Customer:
    customer = Customer(server.rasa_url, f"shift-{uuid.uuid4().hex[:10]}")
    customer.says(first)
    customer.says(ASK_FOR_PERSON)
    return customer


def _waiting(session: AgentSession, conversation_id: str) -> bool:
    queue = session.get("/api/queue?limit=500").json()
    return any(s["conversation_id"] == conversation_id for s in queue["waiting"])


def _stay_away(redis_url: str, *agents: str) -> None:
    client = redis.Redis.from_url(redis_url)
    for agent in agents:
        client.set(f"teranga:desk:status:{agent}", "away")


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def agents_away(nobody_present, real_redis_url):
    """Everyone here takes chats by hand unless a test says otherwise (after conftest's
    nobody_present, which forgets every status)."""
    _stay_away(real_redis_url, AWA, FATOU)


@pytest.fixture(scope="module")
def desk_setup(server, desk_files, real_redis_url):
    """A long answer timeout and room for five chats for Awa while the file runs; the
    settings, the agents file and the conversations are put back afterwards."""
    settings_path, agents_path = desk_files["settings"], desk_files["agents"]
    settings_text, agents_text = settings_path.read_text("utf-8"), agents_path.read_text("utf-8")
    directory = AgentDirectory(agents_path)
    directory.agents[AWA].max_conversations = 5
    directory.save()
    _write_settings(settings_path, settings_text, **LONG_TIMEOUT)
    _stay_away(real_redis_url, AWA, FATOU)
    created: list[Customer] = []
    try:
        yield created
    finally:
        supervisor = AgentSession(server.desk_url, SARA)
        for customer in created:  # nobody keeps this file's chats, waiting or held
            supervisor.act(customer.sender, "take_over")
            supervisor.act(customer.sender, "close")
        settings_path.write_text(settings_text, "utf-8")
        agents_path.write_text(agents_text, "utf-8")


@pytest.fixture(scope="module")
def newcomer(server, desk_setup) -> Customer:
    """A French customer waiting for a person: on the supervisor's screen, then Awa's."""
    customer = _escalate(server, "mon solde sunucash est faux depuis ce matin")
    desk_setup.append(customer)
    return customer


class Desk:
    """One agent's desk page in its own browser context."""

    def __init__(self, browser, server, agent_id: str) -> None:
        self.context = browser.new_context(viewport=VIEWPORT)
        self.page = self.context.new_page()
        self.errors: list[str] = []  # script errors and what the Content-Security-Policy stopped
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda message: "Content Security Policy" in message.text
                     and self.errors.append(message.text))
        self.page.goto(f"{server.desk_url}/login")
        self.page.fill("#agent", agent_id)
        self.page.fill("#password", PASSWORD)
        self.page.click("button[type=submit]")
        expect(self.page.locator("#link")).to_have_text("live")

    def card(self, list_id: str, conversation_id: str):
        return self.page.locator(f"#{list_id} li[data-id='{conversation_id}']")

    def open(self, conversation_id: str) -> None:
        self.card("mine", conversation_id).click()
        expect(self.page.locator("#title")).to_contain_text(conversation_id)

    def close(self) -> None:
        self.context.close()
        assert self.errors == []


@pytest.fixture(scope="module")
def awa(browser, server, desk_setup):
    """Awa with five French chats: she claimed them all and answered all but the second."""
    session = AgentSession(server.desk_url, AWA)
    firsts = ["j'ai oublié mon code PIN sunucash, comment le changer ?",
              "bonjour, mon transfert de 5000 F n'est jamais arrivé",
              "on m'a pris 1500 F de credit sans raison",
              "ma puce ne capte plus le reseau depuis hier",
              "je n'arrive pas a retirer 20000 F chez l'agent"]
    chats = [_escalate(server, first) for first in firsts]
    desk_setup.extend(chats)
    for number, customer in enumerate(chats):
        wait_until(lambda c=customer: _waiting(session, c.sender))
        assert session.act(customer.sender, "claim").ok
        if number != 1:
            assert session.act(customer.sender, "reply", text="Bonjour, je regarde votre "
                               "dossier.").ok
    desk = Desk(browser, server, AWA)
    for customer in chats:
        expect(desk.card("mine", customer.sender)).to_be_visible()
    yield desk, chats, session
    desk.close()


def test_0_a_failed_login_keeps_the_agent_id(browser, server):
    page = browser.new_page(viewport=VIEWPORT)
    try:
        page.goto(f"{server.desk_url}/login")
        page.fill("#agent", "Ndeye")
        page.fill("#password", "not her password")
        page.click("button[type=submit]")
        expect(page.locator(".error")).to_contain_text("wrong password")
        expect(page.locator("#agent")).to_have_value("Ndeye")
        expect(page.locator("#password")).to_be_focused()
    finally:
        page.close()


def test_1_unread_counts_and_tab_title_follow_the_other_chats(awa):
    desk, chats, _session = awa
    page = desk.page
    desk.open(chats[0].sender)
    expect(page).to_have_title(TITLE)

    chats[1].says("c'etait pour le 77 123 45 67, reference TX48213")
    chats[2].says("vous etes la ?")
    second, third = desk.card("mine", chats[1].sender), desk.card("mine", chats[2].sender)
    expect(second.locator(".unread")).to_have_text("1")
    expect(second.locator(".last")).to_contain_text("77 ••• •• 67")  # the latest, live, masked
    expect(third.locator(".unread")).to_have_text("1")
    expect(page).to_have_title(f"(2) {TITLE}")
    expect(desk.card("mine", chats[0].sender).locator(".unread")).to_be_hidden()

    second.click()  # opening a chat reads it
    expect(second.locator(".unread")).to_be_hidden()
    expect(page).to_have_title(f"(1) {TITLE}")
    # The amounts and numbers the customer gave, as chips, even after the hand-over.
    expect(page.locator("#summary .chip", has_text="77 ••• •• 67")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "desk-five-chats.png"))

    order = page.locator("#mine li").evaluate_all("cards => cards.map(c => c.dataset.id)")
    following = order[(order.index(chats[1].sender) + 1) % len(order)]
    page.keyboard.press("Alt+ArrowDown")  # the next of my chats, from the keyboard
    expect(page.locator("#title")).to_contain_text(following)
    expect(page).to_have_title(TITLE if following == chats[2].sender else f"(1) {TITLE}")


def test_2_enter_sends_and_shift_enter_starts_a_new_line(awa):
    desk, chats, _session = awa
    page, customer = desk.page, chats[1]
    desk.open(customer.sender)
    customer.drain()
    reply = page.locator("#reply")
    reply.click()
    reply.type("Bonjour, je vois votre transfert")
    reply.press("Shift+Enter")
    reply.type("de 5000 F : je le relance.")
    expect(reply).to_have_value("Bonjour, je vois votre transfert\nde 5000 F : je le relance.")
    sent = page.locator("#transcript li.agent", has_text="je le relance")
    expect(sent).to_have_count(0)

    reply.press("Enter")
    expect(sent).to_have_count(1)
    expect(reply).to_have_value("")
    texts = customer.receives(lambda texts: any("je le relance" in t for t in texts))
    assert "Bonjour, je vois votre transfert\nde 5000 F : je le relance." in texts


def test_4_a_suggested_article_is_inserted_edited_and_sent(awa):
    desk, chats, _session = awa
    page, customer = desk.page, chats[0]
    desk.open(customer.sender)
    customer.drain()
    customer.says("comment reinitialiser mon code PIN sunucash ?")
    article = page.locator("#suggestions li", has_text="PIN").first
    expect(article).to_be_visible(timeout=10_000)
    article.locator("button.insert").click()
    reply = page.locator("#reply")
    inserted = reply.input_value()
    assert "*145*6#" in inserted or "PIN" in inserted, inserted
    reply.press("Control+Home")
    reply.type("Bonjour ! ")  # edited before sending

    page.fill("#note-text", "Client deja bloque la semaine derniere, verifier l'historique")
    page.click("#note-add")
    expect(page.locator("#notes li")).to_contain_text("Client deja bloque")

    reply.press("Enter")
    texts = customer.receives(lambda texts: any(t.startswith("Bonjour ! ") for t in texts))
    assert f"Bonjour ! {inserted}".strip() in texts
    assert not any("Client deja bloque" in t for t in texts)  # notes stay inside


def test_5_a_supervisor_takes_over_a_held_chat_and_the_agent_sees_it_go(awa, browser, server,
                                                                        newcomer):
    desk, chats, _session = awa
    held = chats[3].sender
    sara = Desk(browser, server, SARA)
    try:
        page = sara.page
        expect(page.locator("#overview")).to_be_visible()  # what supervisors see first
        expect(page.locator("#available-box")).to_be_hidden()
        row = page.locator(f"#live tr[data-id='{held}']")
        expect(row).to_contain_text(AWA_NAME)
        expect(page.locator(f"#live tr[data-id='{newcomer.sender}']")).to_contain_text("waiting")
        page.screenshot(path=str(SCREENSHOTS / "desk-supervisor.png"))

        row.click()
        expect(page.locator("#holder")).to_contain_text(AWA_NAME)
        expect(page.locator("#reply-form")).to_be_hidden()
        page.click("#take-over")
        expect(page.locator("#reply-form")).to_be_visible()
        expect(page.locator("#take-over")).to_be_hidden()

        expect(desk.card("mine", held)).to_have_count(0)
        expect(desk.page.locator("#flash")).to_contain_text(SARA_NAME)
    finally:
        sara.close()


def test_6_the_customer_is_told_the_agent_s_name_and_the_close(awa, newcomer):
    desk, _chats, session = awa
    page, customer = desk.page, newcomer
    waiting = desk.card("waiting", customer.sender)
    expect(waiting).to_be_visible(timeout=15_000)
    page.fill("#search", customer.sender.removeprefix("shift-"))  # found by its id
    expect(page.locator("#showing")).to_contain_text("showing 1 of 1")
    expect(page.locator("#waiting li")).to_have_count(1)
    waiting.click()
    expect(page.locator("#claim")).to_be_visible()
    expect(page.locator("#reply-form")).to_be_hidden()  # not before claiming
    page.keyboard.press("Alt+c")
    expect(page.locator("#reply-form")).to_be_visible()
    expect(desk.card("mine", customer.sender)).to_be_visible()
    texts = customer.receives(lambda texts: any(AWA_NAME in t for t in texts))
    assert any(AWA_NAME in t for t in texts), texts

    page.click("#close")  # a wrap-up step, then a few seconds to undo
    page.select_option("#wrap-up-code", "resolved")
    page.fill("#wrap-up-tags", "solde, sunucash")
    page.click("#wrap-up-confirm")
    page.click("#undo")
    expect(page.locator("#undo-bar")).to_be_hidden()
    time.sleep(6)
    owner = session.get(f"/api/conversations/{customer.sender}").json()["owner"]
    assert owner == f"agent:{AWA}"  # undone: still Awa's

    page.click("#close")
    page.select_option("#wrap-up-code", "resolved")
    page.click("#wrap-up-confirm")
    expect(page.locator("#conversation")).to_be_hidden(timeout=10_000)
    expect(desk.card("mine", customer.sender)).to_have_count(0)


def test_3_the_answer_timeout_warns_then_says_why_the_agent_was_marked_away(
        browser, server, desk_files, desk_setup):
    settings_path = desk_files["settings"]
    original = settings_path.read_text("utf-8")
    _write_settings(settings_path, original, **SHORT_TIMEOUT)
    customer = _escalate(server, "mon forfait internet a disparu apres la recharge")
    desk_setup.append(customer)
    fatou = Desk(browser, server, FATOU)
    try:
        page = fatou.page
        expect(page.locator("#available")).not_to_be_checked()
        page.check("#available")  # she takes the next chat, then does not answer it
        chat = page.locator("#mine li").first
        expect(chat).to_be_visible(timeout=15_000)
        chat.click()
        expect(page.locator("#due-warning")).to_be_visible(timeout=10_000)
        expect(page.locator("#due-warning")).to_contain_text("goes back to the queue")
        banner = page.locator("#away-banner")
        expect(banner).to_be_visible(timeout=20_000)
        expect(banner).to_contain_text("You were marked away")
        expect(banner).to_contain_text("not answered in 14 s")
        expect(page.locator("#available")).not_to_be_checked()
        page.click("#back")
        expect(banner).to_be_hidden()
        expect(page.locator("#available")).to_be_checked()
        page.uncheck("#available")
    finally:
        settings_path.write_text(original, "utf-8")
        fatou.close()
