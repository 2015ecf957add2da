"""Whether a person can take a conversation now: opening hours, agents online, the wait.

The contact centre's rules live in `desk/settings.yml` (TERANGA_DESK_SETTINGS), read by the
action server (to tell the customer what happens next) and by the desk (to route), each
through `teranga.reloading.Reloading`: an edit applies without a restart.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import redis.asyncio as aioredis
import yaml

from teranga import redis_keys
from teranga.handoff.agents import Agent

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A desk sends a heartbeat every few seconds for each agent it has open; a missed few mean
# the agent has gone (closed the tab, lost the network).
PRESENCE_TTL_SECONDS = 30


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class OpeningHours:
    timezone: str = "UTC"
    weekly: Mapping[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)  # minutes
    holidays: frozenset[date] = frozenset()

    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(self._zone())
        if local.date() in self.holidays:
            return False
        minute = local.hour * 60 + local.minute
        periods = self.weekly.get(DAYS[local.weekday()], ())
        return any(start <= minute < end for start, end in periods)

    def next_opening(self, at: datetime) -> datetime | None:
        """The next time the centre opens (or `at` if open now); None if it never does."""
        local = at.astimezone(self._zone())
        for offset in range(15):  # two weeks covers any weekly schedule plus holidays
            day = local.date() + timedelta(days=offset)
            if day in self.holidays:
                continue
            for start, end in sorted(self.weekly.get(DAYS[day.weekday()], ())):
                opening = datetime(day.year, day.month, day.day, start // 60, start % 60,
                                   tzinfo=self._zone())
                closing = opening + timedelta(minutes=end - start)
                if closing > local:
                    return max(opening, local)
        return None


WRAP_UP_CODE = re.compile(r"[a-z0-9_]{1,40}")
MAX_WRAP_UP_LABEL = 80
DEFAULT_WRAP_UP_CODES = (("resolved", "Resolved"), ("needs_follow_up", "Needs follow-up"),
                         ("wrong_queue", "Wrong queue"),
                         ("no_reply_from_customer", "No reply from the customer"),
                         ("fraud_report", "Fraud report"))


@dataclass(frozen=True)
class WrapUpCode:
    """How an agent sums a conversation up at close: a code for the figures, a label to read."""

    code: str
    label: str


@dataclass(frozen=True)
class DeskSettings:
    hours: OpeningHours = OpeningHours(weekly={day: ((0, 24 * 60),) for day in DAYS})
    answer_timeout_seconds: float = 120
    response_target_seconds: float = 300
    auto_assign: bool = True
    satisfaction_question: bool = True
    average_handling_minutes: float = 6
    skills: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # skill -> intents
    skill_wait_seconds: float = 60
    # The holder is warned this long before the answer timeout sends a conversation back.
    answer_warning_seconds: float = 30
    # An empty list in the file: closes go without one.
    wrap_up_codes: tuple[WrapUpCode, ...] = tuple(WrapUpCode(code, label)
                                                  for code, label in DEFAULT_WRAP_UP_CODES)

    def wrap_up_label(self, code: str) -> str | None:
        return next((w.label for w in self.wrap_up_codes if w.code == code), None)

    def skill_for(self, intents_newest_first: Iterable[str | None]) -> str | None:
        """The skill the customer's latest request that needs one calls for."""
        by_intent = {i: skill for skill, intents in self.skills.items() for i in intents}
        return next((by_intent[i] for i in intents_newest_first if i in by_intent), None)


def load_settings(path: Path) -> DeskSettings:
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise SettingsError(f"{path}: cannot read the desk settings: {error}") from error
    try:
        hours = OpeningHours(
            timezone=str(data.get("timezone", "UTC")),
            weekly={day: _periods(data.get("opening_hours", {}).get(day, "closed"))
                    for day in DAYS},
            holidays=frozenset(date.fromisoformat(str(d)) for d in data.get("holidays") or []))
        hours.is_open(datetime.now().astimezone())  # an unknown time zone fails here
        defaults = DeskSettings()
        skills = {str(skill): tuple(str(i) for i in intents)
                  for skill, intents in (data.get("skills") or {}).items()}
        settings = DeskSettings(
            hours=hours, skills=skills, wrap_up_codes=_wrap_up_codes(data), **{
                name: type(getattr(defaults, name))(data.get(name, getattr(defaults, name)))
                for name in ("answer_timeout_seconds", "response_target_seconds",
                             "auto_assign", "satisfaction_question",
                             "average_handling_minutes", "skill_wait_seconds",
                             "answer_warning_seconds")})
        if settings.answer_warning_seconds < 0:
            raise ValueError("answer_warning_seconds must be at least 0")
        if settings.answer_warning_seconds >= settings.answer_timeout_seconds:
            # a short timeout set alone must not break the desk: warn halfway instead
            settings = replace(settings,
                               answer_warning_seconds=settings.answer_timeout_seconds / 2)
        return settings
    except (ValueError, TypeError, AttributeError, ZoneInfoNotFoundError) as error:
        raise SettingsError(f"{path}: {error}") from error


def _wrap_up_codes(data: dict) -> tuple[WrapUpCode, ...]:
    """`wrap_up_codes: [{code: resolved, label: Resolved}, ...]`; absent: the default set."""
    entries = data.get("wrap_up_codes")
    if entries is None:
        return DeskSettings.wrap_up_codes
    if not isinstance(entries, list):
        raise ValueError("wrap_up_codes must be a list of {code, label}")
    codes = []
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) != {"code", "label"}:
            raise ValueError(f"wrap-up code {entry!r}: write it as {{code: ..., label: ...}}")
        code, label = str(entry["code"]), str(entry["label"]).strip()
        if not WRAP_UP_CODE.fullmatch(code):
            raise ValueError(f"wrap-up code {code!r}: use 1-40 of a-z, 0-9 and _")
        if not label or len(label) > MAX_WRAP_UP_LABEL:
            raise ValueError(f"wrap-up code {code!r}: its label must have 1-"
                             f"{MAX_WRAP_UP_LABEL} characters")
        if any(c.code == code for c in codes):
            raise ValueError(f"wrap-up code {code!r} is listed twice")
        codes.append(WrapUpCode(code, label))
    return tuple(codes)


def _periods(text: str) -> tuple[tuple[int, int], ...]:
    """'08:00-12:00, 14:00-18:00' -> ((480, 720), (840, 1080)); 'closed' -> ()."""
    if str(text).strip().lower() == "closed":
        return ()
    periods = []
    for part in str(text).split(","):
        try:
            start, end = (_minutes(t) for t in part.split("-"))
        except ValueError:
            raise ValueError(f"opening hours {text!r}: write them like '08:00-18:00' "
                             f"or 'closed'") from None
        if not 0 <= start < end <= 24 * 60:
            raise ValueError(f"opening hours {part.strip()!r}: the end must follow the start")
        periods.append((start, end))
    return tuple(periods)


def _minutes(text: str) -> int:
    hours, minutes = text.strip().split(":")
    return int(hours) * 60 + int(minutes)


class Presence:
    """Which agents have a desk open, and which of them take new conversations."""

    def __init__(self, client: aioredis.Redis, prefix: str = redis_keys.PREFIX) -> None:
        self.client = client
        self.online_key = redis_keys.presence("online", prefix)
        self.available_key = redis_keys.presence("available", prefix)

    async def heartbeat(self, agent_id: str, available: bool) -> None:
        now = time.time()
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.zadd(self.online_key, {agent_id: now})
            if available:
                pipe.zadd(self.available_key, {agent_id: now})
            else:
                pipe.zrem(self.available_key, agent_id)
            await pipe.execute()

    async def leave(self, agent_id: str) -> None:
        await self.client.zrem(self.online_key, agent_id)
        await self.client.zrem(self.available_key, agent_id)

    async def online(self) -> set[str]:
        return await self._recent(self.online_key)

    async def available(self) -> set[str]:
        return await self._recent(self.available_key)

    async def _recent(self, key: str) -> set[str]:
        since = time.time() - PRESENCE_TTL_SECONDS
        return {m.decode() for m in await self.client.zrangebyscore(key, since, "+inf")}


# Why a person can or cannot come, as the customer is told it.
CLOSED = "closed"  # outside opening hours
NO_SPEAKER = "no_speaker"  # no agent in the agents file speaks the language
NOBODY_ON_DUTY = "nobody_on_duty"  # agents of the language exist, none is online and available
ALL_BUSY = "all_busy"  # speakers available but each at their maximum of conversations
FREE_NOW = "free_now"  # a speaker can take the conversation at once


@dataclass(frozen=True)
class Availability:
    open_now: bool
    agents: int  # available agents who speak the language
    wait_minutes: int | None  # roughly, when someone can come
    opens_at: datetime | None  # when closed
    situation: str = FREE_NOW
    position: int = 1  # the customer's place among those waiting for the language

    @property
    def nobody_can_come(self) -> bool:
        """Closed, or no available agent of the language: where a callback helps."""
        return self.situation in (CLOSED, NO_SPEAKER, NOBODY_ON_DUTY)


def availability(language: str, settings: DeskSettings, agents: Iterable[Agent],
                 available_ids: set[str], load: Mapping[str, int], waiting_ahead: int,
                 now: datetime | None = None) -> Availability:
    """What to tell a customer waiting in the queue of `language`, with `waiting_ahead`
    customers of that language before them. Supervisors are never assigned: not counted."""
    now = now or datetime.now().astimezone()
    position = waiting_ahead + 1
    if not settings.hours.is_open(now):
        return Availability(False, 0, None, settings.hours.next_opening(now), CLOSED, position)
    speakers = [a for a in agents if language in a.languages and a.role == "agent"]
    on_duty = [a for a in speakers if a.id in available_ids]
    if not on_duty:
        return Availability(True, 0, None, None, NOBODY_ON_DUTY if speakers else NO_SPEAKER,
                            position)
    free = sum(max(0, a.max_conversations - load.get(a.id, 0)) for a in on_duty)
    if position <= free:
        return Availability(True, len(on_duty), 1, None, FREE_NOW, position)
    rounds = math.ceil((position - free) / len(on_duty))
    return Availability(True, len(on_duty),
                        max(1, round(rounds * settings.average_handling_minutes)), None,
                        ALL_BUSY, position)
