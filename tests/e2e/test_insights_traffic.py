"""The traffic generator's scripted conversations, played through the real channels and desk,
then read by the real feed into a store of their own: every count equals the known truth.
The report of that store is opened in Chromium (.teranga/screenshots/traffic-report.png), and
the desk's Insights page after it (traffic-insights.png)."""

from __future__ import annotations

import time
from collections import Counter

import pytest
import redis
import sqlalchemy as sa
from playwright.sync_api import expect, sync_playwright

from teranga import redis_keys
from teranga.insights.feed import Feed
from teranga.insights.metrics import ABANDONED_AFTER_SECONDS, Filters, summary
from teranga.insights.report import insights_data, write_report
from teranga.insights.schema import conversations
from teranga.insights.store import InsightsStore
from teranga.settings import PROJECT_ROOT
from tests.e2e.desk_client import PASSWORD, AgentSession, settled, wait_until
from tests.e2e.test_desk_browser import CHROMIUM, CHROMIUM_FLAGS
from tests.e2e.traffic import SCENARIOS, Traffic

pytestmark = pytest.mark.e2e

SCREENSHOT = PROJECT_ROOT / ".teranga" / "screenshots" / "traffic-report.png"
PAGE_SCREENSHOT = SCREENSHOT.with_name("traffic-insights.png")


def test_every_metric_of_the_scripted_traffic_is_the_known_truth(
        server, fake_twilio, fake_telegram, real_redis_url, tmp_path):
    traffic = Traffic(server, fake_twilio, fake_telegram)
    played = [traffic.play(scenario) for scenario in SCENARIOS]
    ids = [p.conversation_id for p in played]
    wait_until(lambda: all(settled(real_redis_url, c) for c in ids), timeout=30)

    store = InsightsStore.sqlite(tmp_path / "traffic.db", b"traffic-key" * 3)
    feed = Feed(redis.Redis.from_url(real_redis_url), store, stream=redis_keys.EVENTS)
    feed.refresh(ids)  # the feed's own fold, on these conversations only
    later = time.time() + ABANDONED_AFTER_SECONDS + 60
    (totals,) = summary(store, now=later)

    handed = [s for s in SCENARIOS if s.reasons]
    assert totals["conversations"] == len(SCENARIOS)
    assert totals["contained"] == len(SCENARIOS) - len(handed)
    assert totals["handed_over"] == len(handed)
    assert totals["abandoned"] == sum(1 for s in SCENARIOS if s.abandoned)
    assert totals["satisfaction_asked"] == sum(1 for s in SCENARIOS if s.satisfied is not None)
    assert totals["satisfaction_answered"] == totals["satisfaction_asked"]
    assert totals["satisfied"] == sum(1 for s in SCENARIOS if s.satisfied)
    assert totals["with_fallback"] == sum(1 for s in SCENARIOS if s.fallback)
    assert totals["kb_misses"] == sum(1 for s in SCENARIOS if s.kb_miss)
    assert totals["customer_messages"] == sum(
        len(s.messages) + (s.satisfied is not None) for s in SCENARIOS)
    reasons = {r["group"]: r["conversations"] for r in summary(store, by="reason", now=later)}
    assert reasons == dict(Counter(reason for s in SCENARIOS for reason in s.reasons))
    channels = {r["group"]: r["conversations"] for r in summary(store, by="channel", now=later)}
    assert channels == dict(Counter(s.channel for s in SCENARIOS))
    agents = {r["group"]: (r["conversations"], r["satisfied"])
              for r in summary(store, by="agent", now=later) if r["group"]}
    assert agents == {s.agent: (1, int(s.satisfied)) for s in SCENARIOS if s.agent}

    with store.engine.connect() as connection:
        rows = {r.customer: r for r in connection.execute(sa.select(conversations))}
    for scenario, conversation in zip(SCENARIOS, ids, strict=True):
        row = rows[store.pseudonym(conversation)]
        if scenario.language:
            assert row.language == scenario.language, scenario.name
        if scenario.agent:
            assert row.handed_over_at <= row.claimed_at <= row.first_agent_reply_at \
                <= row.returned_at, scenario.name
    languages = {r["group"]: r["conversations"] for r in summary(store, by="language", now=later)}
    assert sum(languages.values()) == len(SCENARIOS)
    for language, count in Counter(s.language for s in SCENARIOS if s.language).items():
        assert languages[language] >= count

    report = tmp_path / "traffic-report.html"
    write_report(insights_data(store, Filters(), 2500.0, now=later), report)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1700})
            page.goto(report.as_uri())
            expect(page.locator(".chart svg")).to_have_count(8)
            expect(page.locator(".card[data-figure=conversations] .value")).to_have_text(
                str(len(SCENARIOS)))
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            _insights_page(browser, server)
        finally:
            browser.close()

    supervisor = AgentSession(server.desk_url, "sara")  # leave no one waiting for others
    for scenario, conversation in zip(SCENARIOS, ids, strict=True):
        if scenario.reasons and scenario.agent is None:
            assert supervisor.act(conversation, "claim").ok
            assert supervisor.act(conversation, "close").ok


def _insights_page(browser, server) -> None:
    """The desk's own Insights page once its feed has read the traffic (the desk's store
    also holds this test run's other conversations)."""
    sara = AgentSession(server.desk_url, "sara")
    wait_until(lambda: (sara.get("/api/insights?since=1d").json()["totals"] or {}).get(
        "conversations", 0) >= len(SCENARIOS), timeout=30)
    page = browser.new_page(viewport={"width": 1400, "height": 1700})
    page.goto(f"{server.desk_url}/login")
    page.fill("#agent", "sara")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{server.desk_url}/insights")
    expect(page.locator("body[data-drawn=yes]")).to_have_count(1, timeout=15_000)
    expect(page.locator(".chart svg")).to_have_count(8)
    page.screenshot(path=str(PAGE_SCREENSHOT), full_page=True)
