"""An agent works a conversation in the desk, in headless Chromium (Debian's), driven by
Playwright; a screenshot of the desk is saved in .teranga/screenshots/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import redis
from playwright.sync_api import expect, sync_playwright

from teranga.settings import PROJECT_ROOT
from tests.e2e.desk_client import PASSWORD, collect, responses, say, wait_until

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# No sandbox as root in a container; no calls to Google's services on a closed network.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
SCREENSHOT = PROJECT_ROOT / ".teranga" / "screenshots" / "desk.png"


def test_an_agent_claims_replies_and_hands_back_in_the_browser(server, real_redis_url, sender):
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium package")
    # Fatou starts as "away": she picks conversations from the queue herself.
    redis.Redis.from_url(real_redis_url).set("teranga:desk:status:fatou", "away")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            blocked = []  # what the desk's Content-Security-Policy stopped
            page.on("console", lambda message: "Content Security Policy" in message.text
                    and blocked.append(message.text))
            _work_the_conversation(page, server, sender)
        finally:
            browser.close()
    assert blocked == []


def _work_the_conversation(page, server, sender: str) -> None:
    page.goto(f"{server.desk_url}/")
    expect(page).to_have_url(f"{server.desk_url}/login")
    page.fill("#agent", "fatou")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#link")).to_have_text("live")
    expect(page.locator("#available")).not_to_be_checked()

    say(server.rasa_url, sender, "bonjour, mon transfert de 5000 F n'est jamais arrivé")
    say(server.rasa_url, sender, "je veux parler a un conseiller svp")
    waiting = page.locator(f"#waiting li[data-id='{sender}']")
    expect(waiting).to_be_visible(timeout=10_000)  # pushed by the websocket, no reload
    waiting.click()
    expect(page.locator("#facts")).to_contain_text("asked_for_person")
    expect(page.locator("#transcript li.customer").first).to_contain_text("5000 F")
    page.click("#claim")
    expect(page.locator("#reply-form")).to_be_visible()

    page.locator("#reply").type("/accu")  # "/" opens the canned replies, typing searches
    expect(page.locator("#canned-menu li").first).to_contain_text("Accueil")
    page.locator("#reply").press("Enter")
    expect(page.locator("#reply")).to_have_value(
        "Bonjour, je suis Fatou Sarr, conseiller SunuTel. J'ai lu vos messages, "
        "je m'occupe de vous.")
    page.click("#send")
    expect(page.locator("#transcript li.agent", has_text="Bonjour, je suis")).to_contain_text(
        "Fatou Sarr")
    delivered = wait_until(lambda: next(
        (m for m in collect(server.rasa_url, sender) if m["text"].startswith(
            "Bonjour, je suis Fatou Sarr")), None))

    assert say(server.rasa_url, sender, "merci ! c'etait vers le 77 123 45 67") == []
    # Personal data is masked until Fatou, who holds the conversation, asks to see it.
    expect(page.locator("#transcript li.customer").last).to_contain_text("77 ••• •• 67")
    page.click("#reveal")
    expect(page.locator("#transcript li.customer").last).to_contain_text("77 123 45 67")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    print(f"desk screenshot: {SCREENSHOT}")

    page.click("#return")  # a confirmation step (wrap-up code optional), then time to undo
    page.click("#wrap-up-confirm")
    expect(page.locator("#conversation")).to_be_hidden(timeout=10_000)
    later = collect(server.rasa_url, sender, after=delivered["id"])
    texts = [m["text"] for m in later]
    while responses("fr")["utter_ask_satisfaction"] not in texts:
        extra = collect(server.rasa_url, sender, after=later[-1]["id"])
        assert extra, f"no satisfaction question, only {texts}"
        later += extra
        texts += [m["text"] for m in extra]
