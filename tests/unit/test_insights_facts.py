"""A conversation's facts read from its tracker events, as Rasa 3.6 stores them."""

from __future__ import annotations

from teranga.insights.facts import conversation_facts, sessions

T0 = 1_796_000_000.0


def user(at, text, intent, language="fr", sentiment="neutral", channel="twilio_sms"):
    return {"event": "user", "timestamp": T0 + at, "text": text, "input_channel": channel,
            "parse_data": {"intent": {"name": intent, "confidence": 0.9},
                           "entities": [{"entity": "language", "value": language}],
                           "sentiment": {"label": sentiment, "score": 0.0}}}


def bot(at, response=None, agent=None, notice=None):
    metadata = {"utter_action": response} if response else {}
    if agent:
        metadata.update(agent=agent, agent_name=agent.title())
    if notice:
        metadata["teranga_notice"] = notice
    return {"event": "bot", "timestamp": T0 + at, "text": "...", "metadata": metadata}


def action(at, name):
    return {"event": "action", "timestamp": T0 + at, "name": name}


def slot(at, name, value):
    return {"event": "slot", "timestamp": T0 + at, "name": name, "value": value}


def start(at):
    return [action(at, "action_session_start"), {"event": "session_started",
                                                  "timestamp": T0 + at}]


def test_a_conversation_the_bot_answered_is_contained():
    events = [*start(0), user(1, "bonjour", "greet"), bot(2, "utter_greet"),
              user(5, "combien pour envoyer 5000", "send_money"),
              action(6, "action_answer_from_kb"), bot(6, "utter_kb_answer"),
              slot(6, "kb_article", "fees"), slot(6, "kb_miss", False)]
    (facts,) = conversation_facts("221771234567", events)
    assert facts.contained and not facts.left_waiting
    assert (facts.intent, facts.language, facts.channel) == ("send_money", "fr", "twilio_sms")
    assert (facts.customer_messages, facts.bot_messages, facts.kb_answers) == (2, 2, 1)
    assert (facts.started_at, facts.ended_at) == (T0 + 1, T0 + 6)


def test_a_hand_over_taken_answered_and_handed_back_with_its_times_and_satisfaction():
    events = [*start(0),
              user(1, "je veux parler a quelqu'un", "request_human", sentiment="negative"),
              slot(2, "handoff_reasons", ["asked_for_person", "negative_sentiment"]),
              action(2, "action_handoff"), bot(2, "utter_handoff_queued"),
              {"event": "pause", "timestamp": T0 + 40},
              bot(41, agent="awa", notice="joined"),  # the desk's notice is not a reply
              bot(70, agent="awa"), user(90, "merci", "thank", sentiment="positive"),
              bot(95, agent="awa"), {"event": "resume", "timestamp": T0 + 120},
              slot(120, "handoff_agent", "awa"),
              {**user(121, "EXTERNAL: handed_back", "handed_back"),  # the desk's trigger
               "metadata": {"is_external": True}}, bot(121, "utter_ask_satisfaction"),
              user(130, "oui", "affirm"), action(131, "action_record_satisfaction"),
              bot(131, "utter_satisfaction_thanks")]
    (facts,) = conversation_facts("c1", events)
    assert not facts.contained and not facts.left_waiting
    assert facts.handover_reasons == ["asked_for_person", "negative_sentiment"]
    assert (facts.handed_over_at, facts.claimed_at, facts.first_agent_reply_at,
            facts.returned_at) == (T0 + 2, T0 + 40, T0 + 70, T0 + 120)
    assert (facts.agent, facts.agent_messages) == ("awa", 2)
    assert facts.satisfaction_asked and facts.satisfied is True
    assert facts.sentiments == {"negative": 1, "positive": 1, "neutral": 1}
    assert facts.customer_messages == 3
    assert not facts.ended_upset


def test_a_hand_over_nobody_took_and_an_unanswered_request_to_rephrase_leave_the_customer_waiting():
    waiting = [*start(0), user(1, "agent svp", "request_human"),
               slot(2, "handoff_reasons", ["asked_for_person"]), action(2, "action_handoff"),
               bot(2, "utter_handoff_queued")]
    rephrase = [*start(0), user(1, "xqzt", "nlu_fallback"), action(2, "action_ask_rephrase"),
                bot(2, "utter_ask_rephrase")]
    answered = [*rephrase, user(9, "mon solde", "check_balance"), bot(10, "utter_balance")]
    assert conversation_facts("a", waiting)[0].left_waiting
    (asked,) = conversation_facts("b", rephrase)
    assert asked.left_waiting and asked.fallbacks == 2  # the intent and the action
    assert asked.missed_messages == [(T0 + 1, "not_understood", "xqzt")]
    assert not conversation_facts("c", answered)[0].left_waiting


def test_a_voice_note_queued_by_another_action_is_a_hand_over_with_its_reason():
    events = [*start(0), user(1, "", "nlu_fallback"), action(2, "action_handle_media"),
              bot(2, "utter_media_to_agent"), slot(2, "handoff_reasons", ["voice_note"]),
              slot(2, "waiting_for_agent", True), bot(2, "utter_handoff_no_agent")]
    (facts,) = conversation_facts("c", events)
    assert not facts.contained and facts.handover_reasons == ["voice_note"]
    assert facts.handed_over_at == T0 + 2 and facts.left_waiting


def test_a_knowledge_base_miss_is_counted_with_the_question_that_missed():
    events = [*start(0), user(1, "c'est quoi le taux de change du yuan", "out_of_scope"),
              action(2, "action_answer_from_kb"), slot(2, "kb_article", None),
              slot(2, "kb_miss", True), action(3, "action_ask_rephrase"), bot(3, "utter_kb_miss")]
    (facts,) = conversation_facts("c", events)
    assert (facts.kb_misses, facts.kb_answers) == (1, 0)
    assert facts.missed_messages == [(T0 + 1, "kb_miss", "c'est quoi le taux de change du yuan"),
                                     (T0 + 1, "not_understood",
                                      "c'est quoi le taux de change du yuan")]


def test_each_session_is_a_conversation_and_a_session_without_a_customer_message_is_none():
    events = [*start(0), user(1, "salut", "greet"), bot(2, "utter_greet"),
              *start(7200), user(7201, "mon solde", "check_balance", language="wo"),
              *start(20000)]
    assert [len(session) for session in sessions(events)] == [4, 3, 2]
    first, second = conversation_facts("c", events)
    assert (first.started_at, second.started_at) == (T0 + 1, T0 + 7201)
    assert second.language == "wo" and first.intent is None  # small talk only


def test_the_language_is_the_one_most_messages_were_in_and_an_upset_ending_is_seen():
    events = [*start(0), user(1, "hi", "greet", language="en"),
              user(2, "nataka salio", "check_balance", language="sw"),
              user(3, "bado haifanyi", "complain", language="sw", sentiment="negative")]
    (facts,) = conversation_facts("c", events)
    assert facts.language == "sw" and facts.ended_upset and facts.intent == "check_balance"


def test_malformed_events_cost_nothing():
    events = [{"event": "user"}, {"event": "user", "timestamp": "x", "parse_data": None},
              {"event": "slot", "name": "handoff_reasons", "value": None}, {}, {"event": "bot"}]
    (facts,) = conversation_facts("c", events)
    assert facts.customer_messages == 2 and facts.started_at == 0.0
