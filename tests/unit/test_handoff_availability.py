import asyncio
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import fakeredis
import pytest

from teranga import redis_keys
from teranga.conversation_ids import SMS, WHATSAPP
from teranga.handoff.agents import Agent, AgentDirectory
from teranga.handoff.availability import (
    ALL_BUSY,
    CLOSED,
    DAYS,
    FREE_NOW,
    NO_SPEAKER,
    NOBODY_ON_DUTY,
    Availability,
    DeskSettings,
    OpeningHours,
    Presence,
    SettingsError,
    availability,
    load_settings,
)
from teranga.handoff.escalation import handoff_reply, queue_outlook, queue_update, told_mark
from teranga.handoff.ownership import Ownership
from teranga.handoff.queue import Escalation, EscalationQueue
from teranga.handoff.records import ConversationRecords
from teranga.handoff.store import HandoffStore
from teranga.reloading import Reloading

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


def test_no_agent_of_the_language_at_all_is_not_the_same_as_agents_away():
    outlook = availability("sw", ALWAYS, [AWA, MODOU], {"awa", "modou"}, {}, 0, NOON)
    assert outlook.open_now and outlook.agents == 0 and outlook.wait_minutes is None
    assert outlook.situation == NO_SPEAKER
    away = availability("wo", ALWAYS, [AWA, MODOU], set(), {}, 0, NOON)
    assert (away.agents, away.situation) == (0, NOBODY_ON_DUTY)
    # Awa (French) is online for Wolof conversations only in the sense of being present:
    # what counts is whether a French speaker is available.
    french_away = availability("fr", ALWAYS, [AWA, MODOU], {"modou"}, {}, 0, NOON)
    assert french_away.situation == NOBODY_ON_DUTY


def test_a_supervisor_is_never_assigned_so_never_counted():
    sara = Agent("sara", "Sara", ["sw"], role="supervisor")
    outlook = availability("sw", ALWAYS, [AWA, sara], {"awa", "sara"}, {}, 0, NOON)
    assert outlook.situation == NO_SPEAKER


def test_all_busy_gives_the_place_and_the_wait():
    outlook = availability("wo", ALWAYS, [AWA, MODOU], {"awa", "modou"},
                           {"awa": 2, "modou": 1}, 2, NOON)
    assert (outlook.situation, outlook.position, outlook.wait_minutes) == (ALL_BUSY, 3, 12)
    free = availability("wo", ALWAYS, [AWA, MODOU], {"awa", "modou"}, {"awa": 1}, 1, NOON)
    assert (free.situation, free.position, free.wait_minutes) == (FREE_NOW, 2, 1)


def test_closed_means_the_next_opening():
    settings = DeskSettings(hours=OpeningHours("Africa/Dakar", {"tue": ((480, 1200),)}))
    outlook = availability("wo", settings, [AWA], {"awa"}, {}, 0, NOON)
    assert not outlook.open_now and outlook.situation == CLOSED
    assert outlook.opens_at == datetime(2026, 11, 24, 8, 0, tzinfo=DAKAR)


def test_the_latest_request_that_needs_a_skill_decides_it():
    settings = load_settings(Path("desk/settings.yml"))
    assert settings.skill_for(["request_human", "transfer_failed", "sim_swap"]) == "sunucash"
    assert settings.skill_for(["request_human", "greet"]) is None


# --- what the customer is told -------------------------------------------------------------

def outlook(situation, position=1, wait=None, opens=None) -> Availability:
    open_now = situation != CLOSED
    agents = 2 if situation in (FREE_NOW, ALL_BUSY) else 0
    return Availability(open_now, agents, wait, opens, situation, position)


@pytest.mark.parametrize("situation, channel, response, callback", [
    (FREE_NOW, "rest", "utter_handoff_coming", False),
    (ALL_BUSY, WHATSAPP, "utter_handoff_busy", False),
    (NOBODY_ON_DUTY, "rest", "utter_handoff_no_agent_here", False),
    (NOBODY_ON_DUTY, SMS, "utter_handoff_no_agent", True),
    (NO_SPEAKER, "socketio", "utter_handoff_no_speaker_here", False),
    (NO_SPEAKER, WHATSAPP, "utter_handoff_no_speaker", True),
    (CLOSED, "rest", "utter_handoff_closed_here", False),
    (CLOSED, SMS, "utter_handoff_closed", True),
])
def test_the_customer_joining_the_queue_hears_why(situation, channel, response, callback):
    reply = handoff_reply(outlook(situation, 3, 12, datetime(2026, 11, 24, 8, 0)), channel)
    assert (reply.response, reply.callback_offered) == (response, callback)


def test_all_busy_says_the_place_and_the_wait_and_closed_when_it_opens():
    busy = handoff_reply(outlook(ALL_BUSY, 3, 12), "rest")
    assert busy.variables == {"position": 3, "wait_minutes": 12}
    closed = handoff_reply(outlook(CLOSED, opens=datetime(2026, 11, 24, 8, 0)), "rest")
    assert closed.variables == {"opens_at": "24/11 08:00"}


@pytest.mark.parametrize("situation, response", [
    (ALL_BUSY, "utter_queue_position"), (FREE_NOW, "utter_queue_position"),
    (CLOSED, "utter_queue_position_closed"), (NOBODY_ON_DUTY, "utter_queue_position_away"),
    (NO_SPEAKER, "utter_queue_position_no_speaker"),
])
def test_a_waiting_customer_hears_their_place(situation, response):
    reply, _ = queue_update(outlook(situation, 3, 6, datetime(2026, 11, 24, 8, 0)), None)
    assert reply.response == response and reply.variables["position"] == 3


def test_nothing_changed_means_a_shorter_line_never_the_same_text_twice():
    now = outlook(ALL_BUSY, 3, 6)
    first, told = queue_update(now, None)
    assert first.variables == {"position": 3, "wait_minutes": 6}
    second, told = queue_update(now, told)
    assert second.response == "utter_queue_unchanged"
    third, told = queue_update(now, told)
    assert third.response == "utter_queue_position"
    moved, _ = queue_update(outlook(ALL_BUSY, 2, 6), told)
    assert moved.response == "utter_queue_position" and moved.variables["position"] == 2


def test_right_after_the_hand_over_message_nothing_new_is_said_shorter():
    now = outlook(ALL_BUSY, 3, 6)
    told = told_mark(now, handoff_reply(now, "rest"))
    assert queue_update(now, told)[0].response == "utter_queue_unchanged"
    assert queue_update(outlook(ALL_BUSY, 2, 6), told)[0].response == "utter_queue_position"
    away = outlook(NOBODY_ON_DUTY, 3)
    assert told_mark(away, handoff_reply(away, "rest")) is None  # no place was given
    assert queue_update(away, None)[0].response == "utter_queue_position_away"


@pytest.fixture
def store(tmp_path):
    directory = AgentDirectory(tmp_path / "agents.yml")
    directory.add(AWA)
    directory.save()
    settings = tmp_path / "settings.yml"
    always = ", ".join(f"{day}: '00:00-24:00'" for day in DAYS)
    settings.write_text(f"average_handling_minutes: 6\nopening_hours: {{{always}}}\n", "utf-8")
    client = fakeredis.aioredis.FakeRedis()
    return HandoffStore(client, Ownership(client), EscalationQueue(client),
                        ConversationRecords(client), Presence(client),
                        Reloading(lambda: directory.path, AgentDirectory),
                        Reloading(lambda: settings, load_settings))


def waiting(conversation_id: str, language: str) -> Escalation:
    return Escalation(conversation_id, "rest", conversation_id, language, ["asked_for_person"],
                      sentiment={}, last_messages=[], top_intents=[])


def test_the_place_counts_only_earlier_customers_of_the_same_language(store):
    async def run():
        for number, (conversation, language) in enumerate(
                [("w1", "wo"), ("f1", "fr"), ("w2", "wo"), ("w3", "wo")]):
            await store.ownership.escalate(conversation)
            await store.records.add_entry(f"{number}-0", waiting(conversation, language))
        await store.presence.heartbeat("awa", available=True)
        await store.client.sadd(redis_keys.agent_conversations("awa"), "x", "y")  # Awa is full
        return [await queue_outlook(store, c, "wo") for c in ("w1", "w2", "w3", "gone")]

    first, second, third, gone = asyncio.run(run())
    assert [first.position, second.position, third.position] == [1, 2, 3]
    assert third.situation == ALL_BUSY and third.wait_minutes == 18
    assert gone is None
