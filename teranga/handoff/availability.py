"""Whether a person can take a conversation now: opening hours, agents online, the wait.

The contact centre's rules live in `desk/settings.yml` (TERANGA_DESK_SETTINGS), read by the
action server (to tell the customer what happens next) and by the desk (to route), each
through `teranga.reloading.Reloading`: an edit applies without a restart.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
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
        return DeskSettings(hours=hours, skills=skills, **{
            name: type(getattr(defaults, name))(data.get(name, getattr(defaults, name)))
            for name in ("answer_timeout_seconds", "response_target_seconds", "auto_assign",
                         "satisfaction_question", "average_handling_minutes",
                         "skill_wait_seconds")})
    except (ValueError, TypeError, AttributeError, ZoneInfoNotFoundError) as error:
        raise SettingsError(f"{path}: {error}") from error


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


@dataclass(frozen=True)
class Availability:
    open_now: bool
    agents: int  # available agents who speak the language
    wait_minutes: int | None  # roughly, when someone can come
    opens_at: datetime | None  # when closed


def availability(language: str, settings: DeskSettings, agents: Iterable[Agent],
                 available_ids: set[str], load: Mapping[str, int], waiting_ahead: int,
                 now: datetime | None = None) -> Availability:
    """What to tell a customer who is joining the queue of `language`."""
    now = now or datetime.now().astimezone()
    if not settings.hours.is_open(now):
        return Availability(False, 0, None, settings.hours.next_opening(now))
    speakers = [a for a in agents if a.id in available_ids and language in a.languages]
    if not speakers:
        return Availability(True, 0, None, None)
    free = sum(max(0, a.max_conversations - load.get(a.id, 0)) for a in speakers)
    position = waiting_ahead + 1
    if position <= free:
        return Availability(True, len(speakers), 1, None)
    rounds = math.ceil((position - free) / len(speakers))
    return Availability(True, len(speakers),
                        max(1, round(rounds * settings.average_handling_minutes)), None)
