from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from teranga.handoff.agents import Agent
from teranga.handoff.availability import (
    DeskSettings,
    OpeningHours,
    SettingsError,
    availability,
    load_settings,
)

DAKAR = ZoneInfo("Africa/Dakar")
NAIROBI = ZoneInfo("Africa/Nairobi")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.yml"
    path.write_text(text, "utf-8")
    return path


def test_the_project_settings_load():
    settings = load_settings(Path("desk/settings.yml"))
    assert settings.hours.timezone == "Africa/Dakar"
    assert settings.hours.is_open(datetime(2026, 11, 23, 10, 0, tzinfo=DAKAR))  # a Monday
    assert not settings.hours.is_open(datetime(2026, 11, 29, 10, 0, tzinfo=DAKAR))  # Sunday


def test_hours_are_read_in_the_centre_s_time_zone(tmp_path):
    settings = load_settings(write(tmp_path, "timezone: Africa/Nairobi\n"
                                   "opening_hours: {mon: '08:00-12:00, 14:00-18:00'}\n"))
    monday = datetime(2026, 11, 23, tzinfo=NAIROBI)
    assert settings.hours.is_open(monday.replace(hour=9))
    assert not settings.hours.is_open(monday.replace(hour=13))
    assert settings.hours.is_open(monday.replace(hour=17, minute=59))
    # 07:30 in Dakar is 10:30 in Nairobi: open.
    assert settings.hours.is_open(datetime(2026, 11, 23, 7, 30, tzinfo=DAKAR))


def test_next_opening_skips_closed_days_and_holidays(tmp_path):
    settings = load_settings(write(tmp_path, "timezone: Africa/Dakar\n"
                                   "opening_hours: {mon: '08:00-20:00', tue: '08:00-20:00'}\n"
                                   "holidays: ['2026-11-24']\n"))
    monday_night = datetime(2026, 11, 23, 21, 0, tzinfo=DAKAR)
    assert settings.hours.next_opening(monday_night) == datetime(2026, 11, 30, 8, 0,
                                                                  tzinfo=DAKAR)
    assert settings.hours.next_opening(datetime(2026, 11, 23, 9, 0, tzinfo=DAKAR)) == \
        datetime(2026, 11, 23, 9, 0, tzinfo=DAKAR)  # open now
    assert OpeningHours().next_opening(monday_night) is None  # never opens


@pytest.mark.parametrize("text, error", [
    ("opening_hours: {mon: '8h-18h'}\n", "write them like '08:00-18:00'"),
    ("opening_hours: {mon: '18:00-08:00'}\n", "the end must follow the start"),
    ("timezone: Africa/Atlantis\n", "Africa/Atlantis"),
    ("holidays: ['next monday']\n", "next monday"),
    ("answer_timeout_seconds: soon\n", "soon"),
    ("opening_hours: [\n", "cannot read"),
])
def test_broken_settings_say_what_is_wrong(tmp_path, text, error):
    with pytest.raises(SettingsError, match="settings.yml") as raised:
        load_settings(write(tmp_path, text))
    assert error in str(raised.value)


AWA = Agent("awa", "Awa", ["fr", "wo"], max_conversations=2)
MODOU = Agent("modou", "Modou", ["wo"], max_conversations=1)
ALWAYS = DeskSettings(average_handling_minutes=6)
NOON = datetime(2026, 11, 23, 12, 0, tzinfo=DAKAR)


def test_a_free_agent_of_the_language_means_about_a_minute():
    outlook = availability("wo", ALWAYS, [AWA, MODOU], {"awa", "modou"}, {}, 0, NOON)
    assert (outlook.open_now, outlook.agents, outlook.wait_minutes) == (True, 2, 1)


def test_a_busy_queue_means_a_longer_wait():
    # 3 free places, 6 ahead: the 7th customer waits for 4 more, two agents: 2 rounds.
    outlook = availability("wo", ALWAYS, [AWA, MODOU], {"awa", "modou"}, {}, 6, NOON)
    assert outlook.wait_minutes == 12


def test_no_agent_of_the_language_available():
    outlook = availability("sw", ALWAYS, [AWA, MODOU], {"awa", "modou"}, {}, 0, NOON)
    assert outlook.open_now and outlook.agents == 0 and outlook.wait_minutes is None
    away = availability("wo", ALWAYS, [AWA, MODOU], set(), {}, 0, NOON)
    assert away.agents == 0


def test_closed_means_the_next_opening():
    settings = DeskSettings(hours=OpeningHours("Africa/Dakar", {"tue": ((480, 1200),)}))
    outlook = availability("wo", settings, [AWA], {"awa"}, {}, 0, NOON)
    assert not outlook.open_now
    assert outlook.opens_at == datetime(2026, 11, 24, 8, 0, tzinfo=DAKAR)


def test_the_latest_request_that_needs_a_skill_decides_it():
    settings = load_settings(Path("desk/settings.yml"))
    assert settings.skill_for(["request_human", "transfer_failed", "sim_swap"]) == "sunucash"
    assert settings.skill_for(["request_human", "greet"]) is None
