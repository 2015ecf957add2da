"""What the Insights page and the HTML report show, computed once (`insights_data`), and the
report itself: one self-contained HTML file (ECharts, the charts' script and the figures
inlined) that a manager opens without the desk or a network."""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from teranga.insights.metrics import GROUPS, Filters, business_value, summary
from teranga.insights.store import InsightsStore
from teranga.insights.warnings import WINDOW_HOURS, early_warnings

STATIC = Path(__file__).resolve().parent.parent / "agent_desk" / "static"
ECHARTS = STATIC / "echarts-6.1.0.min.js"
CHARTS_SCRIPT = STATIC / "insights.js"
STYLE = STATIC / "insights.css"
TEMPLATE = Path(__file__).with_name("report.html")
_PLACEHOLDER = re.compile(r"/\*(ECHARTS|CHARTS|DATA|STYLE)\*/")


def insights_data(store: InsightsStore, filters: Filters, cost_per_conversation: float,
                  now: float | None = None) -> dict:
    """Every figure the page and the report draw, for one period and filter."""
    now = time.time() if now is None else now
    totals = (summary(store, filters, now=now) or [None])[0]
    return {
        "filters": asdict(filters),
        "generated_at": datetime.fromtimestamp(now, ZoneInfo(store.hours.timezone))
        .isoformat(timespec="minutes"),
        "timezone": store.hours.timezone,
        "totals": totals,
        "by": {by: summary(store, filters, by=by, now=now) for by in GROUPS},
        # as it happens: the last hours against the same hours of the days before
        "warnings": early_warnings(store, now),
        "warning_window_hours": WINDOW_HOURS,
        # no cost configured: no saved cost shown (0 would read as "saves nothing")
        "value": business_value(totals, cost_per_conversation)
        if totals and cost_per_conversation > 0 else None,
    }


def write_report(data: dict, out: Path) -> None:
    """The report: the template with the data, the chart library and the charts' script
    inlined (no `<` is left in the data, so no value can end the script)."""
    values = {"ECHARTS": ECHARTS.read_text("utf-8"),
              "CHARTS": CHARTS_SCRIPT.read_text("utf-8"), "STYLE": STYLE.read_text("utf-8"),
              "DATA": json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")}
    # one pass: what is inserted is never searched for placeholders again
    page = _PLACEHOLDER.sub(lambda match: values[match[1]], TEMPLATE.read_text("utf-8"))
    out.write_text(page, "utf-8")
