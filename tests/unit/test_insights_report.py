"""The figures the Insights page and the report draw, the report's file, the CSV export."""

from __future__ import annotations

import csv
import io
import json
import re

from teranga.insights.export import COLUMNS, csv_rows
from teranga.insights.facts import conversation_facts
from teranga.insights.metrics import Filters
from teranga.insights.report import insights_data, write_report
from teranga.insights.store import InsightsStore
from tests.unit.test_insights_facts import T0, action, bot, slot, start, user

HANDED = [*start(0), user(1, "agent svp", "request_human"),
          slot(2, "handoff_reasons", ["asked_for_person"]), action(2, "action_handoff"),
          {"event": "pause", "timestamp": T0 + 10}, bot(20, agent="awa"),
          {"event": "resume", "timestamp": T0 + 50}]
CONTAINED = [*start(0), user(1, "solde", "check_balance", language="wo"), bot(2, "utter_x")]


def filled(tmp_path) -> InsightsStore:
    store = InsightsStore.sqlite(tmp_path / "i.db", b"k" * 32)
    store.save("+221771234567", conversation_facts("+221771234567", HANDED))
    store.save("web-1", conversation_facts("web-1", CONTAINED))
    return store


def test_the_figures_hold_totals_every_breakdown_and_the_saved_cost(tmp_path):
    data = insights_data(filled(tmp_path), Filters(), 1500.0, now=T0 + 10)
    assert (data["totals"]["conversations"], data["totals"]["contained"]) == (2, 1)
    assert data["value"] == {"contained": 1, "cost_per_conversation": 1500.0, "saved": 1500.0}
    assert [r["group"] for r in data["by"]["language"]] == ["fr", "wo"]
    assert [(r["group"], r["handling"]) for r in data["by"]["agent"] if r["group"]] == [
        ("awa", 40.0)]
    assert insights_data(filled(tmp_path), Filters(since="2030-01-01"), 0, now=T0)["totals"] \
        is None


def test_the_report_is_one_file_whose_data_cannot_end_its_script(tmp_path):
    data = insights_data(filled(tmp_path), Filters(channel="</script><script>alert(1)"), 0)
    out = tmp_path / "report.html"
    write_report(data, out)
    page = out.read_text("utf-8")
    assert page.count("</script>") == 3  # the library's, the charts', the call's
    assert "alert(1)" in page and "<script>alert" not in page
    call = re.search(r"drawInsights\(document\.getElementById\(\"insights\"\), (.*)\);",
                     page).group(1)
    assert json.loads(call)["filters"]["channel"] == "</script><script>alert(1)"
    assert "/*DATA*/" not in page and "/*ECHARTS*/" not in page and "echarts" in page


def test_the_csv_has_one_row_per_conversation_and_names_nobody(tmp_path):
    text = "".join(csv_rows(filled(tmp_path), now=T0 + 10))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == COLUMNS and len(rows) == 2
    handed = next(r for r in rows if r["handed_over"] == "yes")
    assert (handed["handover_reasons"], handed["queue_wait_seconds"],
            handed["first_response_seconds"], handed["handling_seconds"],
            handed["agent"]) == ("asked_for_person", "8", "18", "40", "awa")
    assert "771234567" not in text and "web-1" not in text


def _conversation_at(at: float, intent: str, language: str = "fr", upset: bool = False):
    events = [*start(at - T0), user(at - T0 + 1, "...", intent, language=language,
                                    sentiment="negative" if upset else "neutral")]
    return conversation_facts(f"c-{at}-{intent}", events)


def test_an_early_warning_is_raised_for_a_burst_above_the_usual_level_for_these_hours(tmp_path):
    from teranga.insights.warnings import DAY, early_warnings

    store = InsightsStore.sqlite(tmp_path / "w.db", b"k" * 32)
    now = T0 + 30 * DAY
    for day in range(1, 15):  # usually: 1 or 2 failed transfers and 3 balances at this hour
        for n in range(1 + day % 2):
            store.save_many({f"t{day}-{n}": _conversation_at(now - day * DAY - 600 - n,
                                                               "transfer_failed")})
        for n in range(3):
            store.save_many({f"b{day}-{n}": _conversation_at(now - day * DAY - 900 - n,
                                                               "check_balance")})
    for n in range(12):  # now: a burst of failed transfers, upset; balances as usual
        store.save_many({f"now-{n}": _conversation_at(now - 300 - n, "transfer_failed",
                                                      upset=True)})
    for n in range(3):
        store.save_many({f"nb-{n}": _conversation_at(now - 800 - n, "check_balance")})
    warnings = early_warnings(store, now)
    assert [(w["signal"], w["value"], w["now"]) for w in warnings] == [
        ("upset customers", "fr", 12), ("topic", "transfer_failed", 12)]
    assert warnings[1]["usual"] == 1.5 and warnings[1]["ratio"] == 8.0
    assert early_warnings(store, now + DAY) == []  # a day later, nothing in the window
