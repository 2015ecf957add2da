"""Insights end to end: customers through the REST channel, an agent through the desk, the
desk's feed into the analytics store, then a supervisor's Insights page in headless Chromium
(charts drawn, a filter, the CSV downloaded and read) and `teranga report` opened in it.
Screenshots of both go to .teranga/screenshots/."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from teranga.insights.facts import Facts
from teranga.insights.store import open_store
from teranga.knowledge_base.articles import read_article, read_catalogue
from teranga.settings import PROJECT_ROOT
from tests.e2e.desk_client import PASSWORD, AgentSession, say, wait_until
from tests.e2e.test_desk_browser import CHROMIUM, CHROMIUM_FLAGS

pytestmark = pytest.mark.e2e

SCREENSHOTS = PROJECT_ROOT / ".teranga" / "screenshots"


def teranga(*arguments: str) -> None:
    """The command as an operator runs it, in its own process (it masks its process's log
    lines: never this test run's)."""
    subprocess.run([sys.executable, "-m", "teranga", *arguments], check=True, timeout=300)


def _row_of(store, sender: str) -> dict | None:
    import sqlalchemy as sa

    from teranga.insights.schema import conversations

    with store.engine.connect() as connection:
        row = connection.execute(sa.select(conversations).where(
            conversations.c.customer == store.pseudonym(sender))).first()
    return dict(row._mapping) if row else None


def test_the_supervisor_sees_what_the_assistant_and_the_agents_did(server, tmp_path, kb_dir):
    run = uuid.uuid4().hex[:8]
    contained, handed, lost = f"ins-a-{run}", f"ins-b-{run}", f"ins-c-{run}"
    say(server.rasa_url, contained, "how can i check my airtime balance pls")
    say(server.rasa_url, lost, "qxz vbnw plok")
    say(server.rasa_url, handed, "I want to talk to a person please")
    kofi = AgentSession(server.desk_url, "kofi")
    wait_until(lambda: kofi.act(handed, "claim").status_code == 200, timeout=20)
    assert kofi.act(handed, "reply", text="Hello, I am Kofi. How can I help?").ok
    assert kofi.act(handed, "return").ok
    wait_until(lambda: any("solve" in (t or "").lower() or "help" in (t or "").lower()
                           for t in _outbox_texts(server, handed)), timeout=20)
    say(server.rasa_url, handed, "yes")

    store = open_store()
    row = wait_until(lambda: (r := _row_of(store, handed)) and r["satisfied"] is not None
                     and r, timeout=30)
    assert (row["contained"], row["language"], row["channel"], row["agent"]) == (
        False, "en", "rest", "kofi")
    assert row["handed_over_at"] < row["claimed_at"] < row["first_agent_reply_at"] \
        < row["returned_at"]
    assert row["satisfied"] is True and row["satisfaction_asked"] is True
    first = wait_until(lambda: _row_of(store, contained), timeout=30)
    assert first["contained"] and first["intent"] == "check_balance"
    missed = wait_until(lambda: _row_of(store, lost), timeout=30)
    assert missed["fallbacks"] >= 1 and missed["left_waiting"]

    # a burst of one topic in the last minutes, never seen before: an early warning
    burst = f"burst_{run}"
    store.save_many({f"{burst}-{n}": [Facts(f"{burst}-{n}", time.time() - 60 * n,
                                            time.time() - 60 * n + 5, channel="rest",
                                            language="fr", intent=burst, customer_messages=1)]
                     for n in range(6)})

    report = tmp_path / "report.html"
    teranga("report", "--since", "1d", "--out", str(report))
    _browse(server, report, store.pseudonym(handed), burst)

    # what the assistant missed, turned into a draft article the assistant does not read
    teranga("kb", "draft", "--since", "1d", "--group", "1")
    drafts = list(kb_dir.glob("*/drafts/*.md"))
    assert drafts and all(read_article(path, path.parent.parent.name) for path in drafts)
    assert not any(a.path.parent.name == "drafts" for a in read_catalogue(kb_dir).articles)


def _outbox_texts(server, sender: str) -> list[str]:
    from tests.e2e.desk_client import collect

    return [m.get("text") for m in collect(server.rasa_url, sender, wait=1)]


def _browse(server, report: Path, handed_pseudonym: str, burst: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600},
                                    accept_downloads=True)
            blocked = []
            page.on("console", lambda message: "Content Security Policy" in message.text
                    and blocked.append(message.text))
            page.goto(f"{server.desk_url}/login")
            page.fill("#agent", "sara")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            # the supervisors' overview says it as it happens (the desk looks every 10 s)
            warning = page.locator("#early-warnings")
            expect(warning).to_contain_text(f'topic "{burst}": 6 in the last 3 hours',
                                             timeout=30_000)
            expect(warning.locator("a[href='/insights']")).to_have_count(1)
            page.screenshot(path=str(SCREENSHOTS / "overview-warning.png"))
            page.goto(f"{server.desk_url}/insights")
            expect(page.locator("body[data-drawn=yes]")).to_have_count(1, timeout=15_000)
            expect(page.locator(".chart svg")).to_have_count(8)
            expect(page.locator("body[data-irritants=yes]")).to_have_count(1, timeout=60_000)
            expect(page.locator("#irritants .examples")).to_contain_text(["qxz vbnw plok"])
            conversations = page.locator(".card[data-figure=conversations] .value")
            assert int(conversations.inner_text()) >= 3
            page.screenshot(path=str(SCREENSHOTS / "insights.png"), full_page=True)
            page.select_option("select[name=language]", "en")
            page.click("#filters button[type=submit]")
            expect(page.locator("#meta")).to_contain_text("language en")
            with page.expect_download() as download:
                page.click("#export")
            text = Path(download.value.path()).read_text("utf-8")
            rows = list(csv.DictReader(io.StringIO(text)))
            (mine,) = [r for r in rows if r["conversation"].startswith(handed_pseudonym)]
            assert {r["language"] for r in rows} == {"en"}
            assert (mine["handed_over"], mine["handover_reasons"], mine["satisfaction"],
                    mine["agent"]) == ("yes", "asked_for_person", "yes", "kofi")
            assert blocked == []

            report_page = browser.new_page(viewport={"width": 1400, "height": 1600})
            report_page.goto(report.as_uri())
            expect(report_page.locator(".chart svg")).to_have_count(8)
            expect(report_page.locator(".irritants")).to_contain_text("qxz vbnw plok")
            expect(report_page.locator("#meta")).to_contain_text("generated")
            report_page.screenshot(path=str(SCREENSHOTS / "report.png"), full_page=True)
        finally:
            browser.close()


def test_insights_are_for_supervisors_only(server):
    agent = AgentSession(server.desk_url, "fatou")
    assert agent.get("/api/insights").status_code == 403
    assert agent.get("/api/insights/export.csv").status_code == 403
    supervisor = AgentSession(server.desk_url, "sara")
    assert supervisor.get("/api/insights?since=yesterday").status_code == 400
    assert supervisor.get("/api/insights?since=7d").ok
