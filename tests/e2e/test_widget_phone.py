"""The project's widget on a phone (390x844 in Chromium), on a Wolof company page that embeds
it with one script tag: the launcher, the greeting and placeholder in the page's language, a
reply in Wolof with the typing dots and the times, minimise and reopen, the keyboard open
(390x450), Escape; and a message answered on a throttled slow-3G link.

Screenshots go to .teranga/screenshots/widget-phone-*.png."""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import expect, sync_playwright

from tests.e2e.desk_client import responses, send_as_bot, wait_until
from tests.e2e.other_site import HTML, other_site
from tests.e2e.test_desk_browser import CHROMIUM, CHROMIUM_FLAGS, SCREENSHOT

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}
KEYBOARD_OPEN = {"width": 390, "height": 450}
CLOCK = re.compile(r"[0-9]{1,2}\D[0-9]{2}")
GREETING = "salaam aleekum"  # Wolof: data/nlu/wo.yml's greet


def labels(language: str) -> dict[str, str]:
    return yaml.safe_load(Path(f"chat_labels/{language}.yml").read_text("utf-8"))


@contextmanager
def wolof_site(rasa_url: str):
    """A company's Wolof page (`<html lang="wo">`) with the widget's one script tag. (Served
    from a local port: Chromium blocks a page the test fulfilled from opening a loopback
    socket.)"""
    html = f"""<!doctype html><html lang="wo"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>SunuTel</title>
</head><body><h1>SunuTel</h1><p>Dalal ak jàmm ci SunuTel.</p>
<script src="{rasa_url}/webhooks/socketio/widget.js"></script></body></html>""".encode()

    with other_site({"/": (HTML, html)}) as site:
        yield f"{site}/"


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


def screenshot(page, name: str) -> None:
    shot = SCREENSHOT.with_name(f"widget-phone-{name}.png")
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot))
    print(f"widget on a phone, {name}: {shot}")


def inside_viewport(page, selector: str) -> bool:
    """Whether the element is wholly within what the visual viewport shows."""
    return page.evaluate("""selector => {
        const box = document.querySelector(selector).getBoundingClientRect();
        const view = window.visualViewport;
        return box.height > 0 && box.top >= view.offsetTop - 1 &&
               box.bottom <= view.offsetTop + view.height + 1;
    }""", selector)


def watch_typing(page) -> None:
    """Note whether the typing dots were ever shown (the reply may follow them fast)."""
    page.evaluate("""() => {
        const dots = document.querySelector('#teranga-chat .typing');
        window.typingSeen = false;
        new MutationObserver(() => { if (!dots.hidden) window.typingSeen = true; })
            .observe(dots, {attributes: true});
    }""")


def test_the_widget_on_a_phone_in_wolof(server, browser):
    wo = labels("wo")
    greet = responses("wo")["utter_greet"]
    with wolof_site(server.rasa_url) as site:
        page = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
        page.goto(site)
        launcher = page.locator("#teranga-open")
        chat = page.locator("#teranga-chat")
        expect(launcher).to_be_visible()
        expect(launcher).to_have_attribute("aria-label", wo["open"])
        expect(chat).to_be_hidden()  # it starts closed
        screenshot(page, "closed")

        launcher.click()
        expect(chat).to_be_visible()
        expect(chat).to_have_attribute("role", "dialog")
        expect(chat.locator("input")).to_be_focused()
        expect(chat.locator(".hello")).to_have_text(wo["greeting"])
        expect(chat.locator("input")).to_have_attribute("placeholder", wo["placeholder"])
        box = chat.bounding_box()
        assert box and box["width"] == PHONE["width"], box  # the whole width of a phone
        screenshot(page, "open-with-greeting")

        watch_typing(page)
        chat.locator("input").fill(GREETING)
        chat.locator("input").press("Enter")
        expect(chat.locator("li.bot").first).to_have_text(greet)
        expect(chat.locator("li.me").first).to_have_attribute("data-state", "sent")
        expect(chat.locator("li.me .state")).to_have_text(wo["sent"])
        expect(chat.locator(".hello")).to_be_hidden()
        assert page.evaluate("window.typingSeen"), "the typing dots never showed"
        expect(chat.locator(".typing")).to_be_hidden()
        for item in chat.locator("li").all():
            assert CLOCK.fullmatch(item.get_attribute("data-time") or ""), item
        shown_time = chat.locator("li.bot").first.evaluate(
            "li => getComputedStyle(li, '::after').content")
        assert CLOCK.search(shown_time), shown_time
        screenshot(page, "after-a-reply")

        chat.locator("header button").click()  # minimise
        expect(chat).to_be_hidden()
        expect(launcher).to_be_focused()
        launcher.click()
        expect(chat.locator("li.bot").first).to_have_text(greet)  # the conversation is kept
        assert chat.locator("li").count() == 2

        page.set_viewport_size(KEYBOARD_OPEN)  # the keyboard takes the bottom of the screen
        chat.locator("input").focus()
        wait_until(lambda: inside_viewport(page, "#teranga-chat header")
                   and inside_viewport(page, "#teranga-chat input"))
        screenshot(page, "keyboard-open")

        page.keyboard.press("Escape")
        expect(chat).to_be_hidden()
        expect(launcher).to_be_focused()

        page.reload()  # closed it stays
        expect(page.locator("#teranga-open")).to_be_visible()
        expect(page.locator("#teranga-chat")).to_be_hidden()

        # A button, as Rasa sends one, tapped: its payload is an intent clients may send.
        page.locator("#teranga-open").click()
        chat = page.locator("#teranga-chat")
        conversation = page.evaluate("localStorage.getItem('teranga_session')")
        send_as_bot(server.rasa_url, conversation, {
            "text": "Bëgg nga ñu nuyoo ?",
            "data": {"buttons": [{"title": "Waaw", "payload": "/greet"}]}})
        choice = chat.locator(".choices button", has_text="Waaw")
        expect(choice).to_be_visible()
        choice.click()
        expect(chat.locator("li.bot").last).to_have_text(greet)
        screenshot(page, "button-answered")


def test_a_message_is_answered_on_slow_3g(server, browser):
    with wolof_site(server.rasa_url) as site:
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": 400,  # ms, each way
            "downloadThroughput": 400 * 1000 / 8, "uploadThroughput": 400 * 1000 / 8})
        page.goto(site)
        page.locator("#teranga-open").click()
        chat = page.locator("#teranga-chat")
        chat.locator("input").fill(GREETING)
        chat.locator("input").press("Enter")
        expect(chat.locator("li.bot").first).to_have_text(responses("wo")["utter_greet"],
                                                          timeout=30_000)
        expect(chat.locator("li.me").first).to_have_attribute("data-state", "sent")
        screenshot(page, "slow-3g")
