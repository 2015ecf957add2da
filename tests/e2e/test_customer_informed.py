"""The customer always knows where they stand: a waiting customer who writes again hears
their place (not the same text twice, and the escalation gains no reason), agents who are
away are not "nobody speaks your language", and the satisfaction answer is read as people
answer. Rasa server, action server, desk and real Redis; the customer on the REST channel."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
import redis

from teranga.handoff.escalation import queue_outlook
from teranga.handoff.queue import STREAM
from teranga.handoff.store import HandoffStore
from tests.blocking import Ownership, by_agent
from tests.e2e.desk_client import (
    AgentSession,
    collect,
    responses,
    say,
    wait_until,
)

pytestmark = pytest.mark.e2e

NOT_UNDERSTOOD = "qui a gagné le match de foot hier soir"  # no intent, no article
ASK_FOR_PERSON = "je veux parler a un conseiller"


@pytest.fixture
def client(real_redis_url) -> redis.Redis:
    return redis.Redis.from_url(real_redis_url)


def escalations_of(client: redis.Redis, sender: str) -> list[dict]:
    records = [json.loads(fields[b"data"]) for _id, fields in client.xrange(STREAM)]
    return [r for r in records if r["conversation_id"] == sender]


def place(real_redis_url: str, desk_files: dict, sender: str, language: str) -> int:
    """The customer's place in the queue, as the store counts it."""
    async def read() -> int:
        store = HandoffStore.from_url(real_redis_url, desk_files["agents"],
                                      desk_files["settings"])
        try:
            return (await queue_outlook(store, sender, language)).position
        finally:
            await store.close()
    return asyncio.run(read())


def filled(template: str, **variables) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(variables[m.group(1)]), template)


def test_a_waiting_customer_hears_their_place_and_is_not_queued_again(
        server, client, real_redis_url, desk_files, sender):
    fr = responses("fr")
    # French agents are in the agents file, none is present: they are away, and the
    # customer is not told that nobody speaks French.
    joined = say(server.rasa_url, sender, ASK_FOR_PERSON)
    assert joined == [fr["utter_handoff_no_agent_here"]]
    assert joined != [fr["utter_handoff_no_speaker_here"]]
    assert Ownership(client).owner(sender) == "queued"

    position = place(real_redis_url, desk_files, sender, "fr")
    first = say(server.rasa_url, sender, NOT_UNDERSTOOD)
    assert first == [filled(fr["utter_queue_position_away"], position=position)]
    # Nothing changed: shorter, not the same text twice in a row.
    again = say(server.rasa_url, sender, ASK_FOR_PERSON)
    assert again == [filled(fr["utter_queue_unchanged"], position=position)]
    third = say(server.rasa_url, sender, NOT_UNDERSTOOD)
    assert third != again and third == first

    # The bot still answers what it can meanwhile.
    assert say(server.rasa_url, sender, "je veux voir mon solde") == [
        fr["utter_check_balance"]]
    # One escalation, with the reason it had: neither "not understood" nor a second request.
    assert [e["reasons"] for e in escalations_of(client, sender)] == [["asked_for_person"]]
    assert Ownership(client).owner(sender) == "queued"
    # Out of the queue, so that no later test's French agent is given it.
    assert Ownership(client).change(sender, "queued", "bot")


def hand_back_then_answer(server, sender: str, agent_id: str, language: str,
                          messages: tuple[str, ...], answer: str) -> list[str]:
    """The customer greets and asks for a person (`messages`); `agent_id` claims the
    conversation (no agent is present, so nothing else is assigned to them), answers and
    hands it back; the customer answers the satisfaction question. The bot's replies to
    that answer."""
    *before, ask = messages
    for message in before:  # the conversation's language is set by its first messages
        assert say(server.rasa_url, sender, message)
    assert say(server.rasa_url, sender, ask) == [
        responses(language)["utter_handoff_no_agent_here"]]
    agent = AgentSession(server.desk_url, agent_id)
    wait_until(lambda: agent.act(sender, "claim").ok)  # once the desk has read it
    assert agent.act(sender, "reply", text="C'est réglé.").ok  # before the answer timeout
    answered = wait_until(lambda: [m for m in collect(server.rasa_url, sender, wait=1)
                                   if m["text"] == "C'est réglé."])
    assert agent.act(sender, "return").ok
    question = responses(language)["utter_ask_satisfaction"]
    wait_until(lambda: question in [m["text"] for m in collect(
        server.rasa_url, sender, after=answered[-1]["id"], wait=1)])
    return say(server.rasa_url, sender, answer)


@pytest.mark.parametrize("agent_id, language, messages, answer", [
    ("fatou", "fr", (ASK_FOR_PERSON,), "Oui, merci beaucoup"),
    # As in test_desk.py: a first message in Wolof, since the default language is French.
    ("ndeye", "wo", ("salaam aleekum", "dama beugue wax ak ab conseiller"), "waaw jërëjëf"),
])
def test_natural_answers_to_the_satisfaction_question_count(server, client, sender, agent_id,
                                                            language, messages, answer):
    before = by_agent(client).get(agent_id, {}).get("yes", 0)
    reply = hand_back_then_answer(server, sender, agent_id, language, messages, answer)
    assert reply == [responses(language)["utter_satisfaction_thanks"]]
    assert by_agent(client)[agent_id]["yes"] == before + 1
