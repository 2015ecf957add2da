"""The desk's pure logic: merging escalations, routing exclusions, transcripts, canned replies."""

from teranga.agent_desk.access import was_theirs
from teranga.agent_desk.canned import canned_replies
from teranga.agent_desk.events import desk_view
from teranga.agent_desk.summaries import transcript, waiting_in_order
from teranga.handoff.agents import Agent
from teranga.handoff.queue import Escalation
from teranga.handoff.records import ConversationRecord, merged
from teranga.handoff.routing import Waiting, eligible_agent


def escalation(reasons, created_at=100.0, text="help"):
    return Escalation("c1", "rest", "c1", "wo", reasons, created_at=created_at,
                      last_messages=[{"from": "customer", "text": text}])


def test_a_second_escalation_adds_its_reasons_and_keeps_the_first_time():
    first = merged(None, "1-0", escalation(["asked_for_person"]))
    second = merged(first, "2-0", escalation(["negative_sentiment", "asked_for_person"],
                                             created_at=200.0, text="still waiting"))
    assert second.escalation.reasons == ["asked_for_person", "negative_sentiment"]
    assert second.escalation.created_at == 100.0  # waiting since the first one
    assert second.escalation.last_messages[-1]["text"] == "still waiting"
    assert second.entry_ids == ["1-0", "2-0"]


def test_reading_an_entry_twice_changes_nothing():
    record = merged(None, "1-0", escalation(["asked_for_person"]))
    assert merged(record, "1-0", escalation(["negative_sentiment"])) == record


def test_an_escalation_after_a_close_starts_a_new_episode():
    record = merged(None, "1-0", escalation(["asked_for_person"]))
    record.closed_at = 150.0
    again = merged(record, "3-0", escalation(["not_understood"], created_at=300.0))
    assert again.escalation.reasons == ["not_understood"] and again.entry_ids == ["3-0"]
    assert again.closed_at is None


def test_the_transcript_tells_customer_bot_agent_and_hand_overs_apart():
    events = [
        {"event": "user", "text": "salaam", "timestamp": 1,
         "parse_data": {"intent": {"name": "greet"}, "sentiment": {"label": "neutral"}}},
        {"event": "bot", "text": "Asalaa maalekum", "timestamp": 2},
        {"event": "action", "name": "action_listen"},
        {"event": "pause", "timestamp": 3},
        {"event": "bot", "text": "Maa ngi", "timestamp": 4,
         "metadata": {"agent": "awa", "agent_name": "Awa Diop"}},
        {"event": "resume", "timestamp": 5},
        {"event": "user", "text": "EXTERNAL: handed_back", "timestamp": 6,
         "parse_data": {"intent": {"name": "handed_back"}}},
        {"event": "user", "text": "EXTERNAL: why hide this?", "timestamp": 7,
         "parse_data": {"intent": {"name": "nlu_fallback"}}},
    ]
    lines = transcript(events)
    assert [line["from"] for line in lines] == ["customer", "bot", "system", "agent", "system",
                                                "customer"]
    assert lines[0]["intent"] == "greet" and lines[3]["name"] == "Awa Diop"


def test_the_event_stream_carries_only_what_the_desk_shows():
    assert desk_view({"event": "slot", "name": "language"}) is None
    view = desk_view({"event": "user", "sender_id": "c1", "text": "hi", "timestamp": 1,
                      "input_channel": "rest",
                      "parse_data": {"intent": {"name": "greet"},
                                     "entities": [{"entity": "language", "value": "en"}]}})
    assert view["language"] == "en" and view["intent"] == "greet" and view["channel"] == "rest"
    joined = desk_view({"event": "bot", "sender_id": "c1", "text": "Awa has joined",
                        "metadata": {"teranga_notice": "agent_joined", "agent": "awa"}})
    assert joined["notice"] == "agent_joined"  # the desk shows it as its notice, not typing


def test_canned_replies_exist_for_every_language_and_a_broken_file_gives_none(tmp_path):
    for language in ("fr", "en", "wo", "sw", "ha"):
        replies = canned_replies(language)
        assert replies and all(r["title"] and r["text"] for r in replies), language
    (tmp_path / "fr.yml").write_text("- title: only a title\n", "utf-8")
    assert canned_replies("fr", tmp_path) == []
    assert canned_replies("../etc", tmp_path) == []


def test_a_conversation_that_needs_a_skill_goes_to_an_agent_who_has_it():
    awa = Agent("awa", "Awa", ["wo"])
    modou = Agent("modou", "Modou", ["wo"], skills=["sunucash"])
    needs = Waiting("c1", "wo", ("asked_for_person",), 0.0, skill="sunucash")
    assert eligible_agent(needs, [awa, modou], {"modou": 2}) == modou
    assert eligible_agent(needs, [awa], {}) is None


def test_the_skill_is_required_only_for_a_while():
    fresh = Escalation("new", "rest", "new", "wo", ["asked_for_person"], skill="sunucash",
                       created_at=1000.0)
    old = Escalation("old", "rest", "old", "wo", ["asked_for_person"], skill="sunucash",
                     created_at=900.0)
    waiting = waiting_in_order([ConversationRecord(fresh), ConversationRecord(old)],
                               skill_wait_seconds=60, now=1010.0)
    assert [(w.conversation_id, w.skill) for w in waiting] == [("old", None),
                                                               ("new", "sunucash")]


def test_an_agent_hears_that_a_supervisor_took_their_conversation():
    awa = Agent("awa", "Awa", ["wo"])
    taken = {"kind": "assigned", "owner": "agent:sara", "agent": "sara", "from_agent": "awa"}
    assert was_theirs(awa, taken)  # so that her desk drops it from "My conversations"
    assert not was_theirs(awa, {**taken, "from_agent": "ndeye"})
