"""Early warnings: a topic, a hand-over reason or upset customers rising well above their usual
level for this time of day (a network outage in one region shows first as a burst of one
intent, of "upset" hand-overs, in one language).

The last WINDOW hours are compared with the same hours of each of the BASELINE_DAYS days
before (so that the morning rush is not news): a signal is raised when its count now is at
least MIN_COUNT, at least RATIO times its usual mean, and above the mean by THRESHOLD_SD
standard deviations of the usual counts (docs/insights.md, "Early warnings").
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from dataclasses import asdict, dataclass

import sqlalchemy as sa

from teranga.insights.schema import conversations, reasons_of_each
from teranga.insights.store import InsightsStore

WINDOW_HOURS = 3
BASELINE_DAYS = 14
MIN_COUNT = 5
RATIO = 2.0
THRESHOLD_SD = 3.0
DAY = 86400


@dataclass(frozen=True)
class Warning:
    signal: str  # "topic", "hand-over reason", "upset customers"
    value: str  # the intent, the reason, or the language
    now: int  # in the last WINDOW_HOURS
    usual: float  # mean over the same hours of the BASELINE_DAYS days before
    ratio: float | None  # now / usual (None when usually zero)


def early_warnings(store: InsightsStore, now: float | None = None,
                   window_hours: float = WINDOW_HOURS) -> list[dict]:
    """The signals above their usual level now, strongest first."""
    now = time.time() if now is None else now
    window = window_hours * 3600
    counts = _counts_by_day(store, now, window)
    found = []
    for key in set().union(*counts.values()):
        current = counts[0][key]
        usual = [counts[day][key] for day in range(1, BASELINE_DAYS + 1)]
        mean, spread = statistics.fmean(usual), statistics.pstdev(usual)
        if current >= MIN_COUNT and current >= RATIO * mean \
                and current > mean + THRESHOLD_SD * spread:
            found.append(Warning(key[0], key[1], current, round(mean, 2),
                                 round(current / mean, 1) if mean else None))
    found.sort(key=lambda w: (-(w.ratio or float("inf")), -w.now))
    return [asdict(w) for w in found]


def _counts_by_day(store: InsightsStore, now: float, window: float) -> dict[int, Counter]:
    """For day 0 (the last window) and each day before (the same hours), the count of each
    (signal, value)."""
    c = conversations.c
    # only the windows' rows, found by the index on the start: a few hours of each day
    in_windows = sa.or_(*(c.started_at.between(now - day * DAY - window, now - day * DAY)
                          for day in range(BASELINE_DAYS + 1)))
    counts: dict[int, Counter] = {day: Counter() for day in range(BASELINE_DAYS + 1)}
    reasons = reasons_of_each(store.engine.dialect.name).label("reasons")
    query = sa.select(c.started_at, c.intent, c.language, c.ended_upset, reasons) \
        .where(in_windows)
    with store.engine.connect() as connection:
        for row in connection.execute(query):
            day = _day_back(now, row.started_at, window)
            if day is None:
                continue
            if row.intent:
                counts[day][("topic", row.intent)] += 1
            if row.ended_upset:
                counts[day][("upset customers", row.language or "unknown")] += 1
            for reason in (row.reasons or "").split():
                counts[day][("hand-over reason", reason)] += 1
    return counts


def _day_back(now: float, at: float, window: float) -> int | None:
    """How many days before `now` the window holding `at` is; None outside every window."""
    days, offset = divmod(now - at, DAY)
    if offset >= window or not 0 <= days <= BASELINE_DAYS:
        return None
    return int(days)
