"""The desk's context without I/O: the facts read from customers' messages in the five
languages (and from hostile ones), the summary of a conversation, history keys, notes'
text and the knowledge-base text an agent pastes."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from teranga.agent_desk import context, suggestions
from teranga.agent_desk.context import facts, facts_in, summarize
from teranga.agent_desk.desk import DeskError
from teranga.agent_desk.history import customer_key, episode
from teranga.agent_desk.notes import MAX_NOTE_CHARS, note_text
from teranga.agent_desk.suggestions import plain
from teranga.handoff.queue import Escalation
from teranga.handoff.records import ConversationRecord

A, T, P, D, N = "amount", "transaction_id", "phone", "date", "number"
U, OP, C, W = "ussd_code", "operator", "country", "town"

# (message, the facts expected in it, in order)
MESSAGES = [
    # French
    ("J'ai envoyé 5000 F à mon frère au 77 123 45 67 hier mais il n'a rien reçu. "
     "Réf MP240315.1234.A12345",
     [(A, "5000 F"), (P, "77 123 45 67"), (D, "hier"), (T, "MP240315.1234.A12345")]),
    ("j'ai payé 10.000 CFA le 15/03/2024 et 5 000 FCFA le 16 mars",
     [(A, "10.000 CFA"), (D, "15/03/2024"), (A, "5 000 FCFA"), (D, "16 mars")]),
    ("Bonjour, on m'a prélevé 20 000 francs sans raison ce matin !!!",
     [(A, "20 000 francs"), (D, "ce matin")]),
    ("Mon numéro est le 33 821 12 34, rappelez-moi à 14h30 svp", [(P, "33 821 12 34"),
                                                                   (D, "14h30")]),
    ("Montant: 1 500 000 F CFA, transaction du 2024-03-15", [(A, "1 500 000 F CFA"),
                                                             (D, "2024-03-15")]),
    ("le code *145*7# me dit échec, mon solde est 2500", [(U, "*145*7#"), (N, "2500")]),
    ("Transfert Wave de 15.000f vers +221 76 543 21 09 lundi",
     [(OP, "Wave"), (A, "15.000f"), (P, "+221 76 543 21 09"), (D, "lundi")]),
    ("5\u202f000 FCFA débités deux fois", [(A, "5 000 FCFA")]),  # narrow no-break space
    ("J ai recu un sms avec le code TX-123456 mais pas l argent", [(T, "TX-123456")]),
    # English
    ("I sent KSh 2,500 to 0712 345 678 yesterday, code QK12AB34CD",
     [(A, "KSh 2,500"), (P, "0712 345 678"), (D, "yesterday"), (T, "QK12AB34CD")]),
    ("Paid $20 and 15€ on March 15, 2024", [(A, "$20"), (A, "15€"), (D, "March 15, 2024")]),
    ("I recharged 500 but got nothing, my line is 08031234567", [(N, "500"),
                                                                 (P, "08031234567")]),
    ("my balance dropped from 10,000 naira to ₦3,000 on 12th May",
     [(A, "10,000 naira"), (A, "₦3,000"), (D, "12th May")]),
    ("please call me back on +44 7700 900123 this morning",
     [(P, "+44 7700 900123"), (D, "this morning")]),
    ("Reference ref12345678 from the agent at 9am", [(T, "ref12345678"), (D, "9am")]),
    # Wolof
    ("Damaa yónnee 20 000 francs ci +221 77 123 45 67 démb, transaction TX-123456",
     [(A, "20 000 francs"), (P, "+221 77 123 45 67"), (D, "démb"), (T, "TX-123456")]),
    ("sama xaalis 5000f la yónnee, nimero bi 781234567", [(A, "5000f"), (P, "781234567")]),
    ("Dama jënd 1000 F crédit tey waaye dara agsiwul", [(A, "1000 F"), (D, "tey")]),
    ("bërki démb laa yónne 10 000 FCFA, code bi MP240316.0930.B98765",
     [(D, "bërki démb"), (A, "10 000 FCFA"), (T, "MP240316.0930.B98765")]),
    ("Wave bi jël na 500 dërëm ci sama kont altine",
     [(OP, "Wave"), (A, "500 dërëm"), (D, "altine")]),
    ("nimero bu bees bi mooy 70 555 66 77", [(P, "70 555 66 77")]),
    # Swahili
    ("Nimetuma shilingi 2,500 kwa 0712345678 jana, msimbo QK12AB34CD tarehe 15 Machi",
     [(A, "shilingi 2,500"), (P, "0712345678"), (D, "jana"), (T, "QK12AB34CD"),
      (D, "15 Machi")]),
    ("M-Pesa imekata 2,500/= bila sababu leo", [(OP, "M-Pesa"), (A, "2,500/="), (D, "leo")]),
    ("Nilituma 2k bob kwa 0722000111 saa 14:30", [(A, "2k bob"), (P, "0722000111"),
                                                   (D, "14:30")]),
    ("Nimepoteza Ksh.1500 kwenye muamala RGT5XK92LP Jumatatu",
     [(A, "Ksh.1500"), (T, "RGT5XK92LP"), (D, "Jumatatu")]),
    ("Salio langu ni 350 tu, nambari yangu +254 712 345 678",
     [(N, "350"), (P, "+254 712 345 678")]),
    # Hausa
    ("Na tura ₦3000 zuwa 08031234567 jiya ranar 15 ga Maris",
     [(A, "₦3000"), (P, "08031234567"), (D, "jiya"), (D, "15 ga Maris")]),
    ("Na tura N3,000 zuwa +234 803 123 4567", [(A, "N3,000"), (P, "+234 803 123 4567")]),
    ("An cire naira 1,500 daga asusuna yau", [(A, "naira 1,500"), (D, "yau")]),
    ("Lambar ciniki ita ce FT24075XYZ12 ta Litinin", [(T, "FT24075XYZ12"), (D, "Litinin")]),
    ("Ina son a dawo min da 5000 NGN, lambata 0805 123 4567",
     [(A, "5000 NGN"), (P, "0805 123 4567")]),
    # Code-mixed
    ("Boss I don send 5k naira to 0813 222 3344 since yesterday abeg",
     [(A, "5k naira"), (P, "0813 222 3344"), (D, "yesterday")]),
    ("dama send 25 000 F ci Orange Money, ref CI240315.1234.A12345 please",
     [(A, "25 000 F"), (OP, "Orange Money"), (T, "CI240315.1234.A12345")]),
    ("Nimetuma 1,000 shillings via M-Pesa to 0700123456 jana but hakuna kitu",
     [(A, "1,000 shillings"), (OP, "M-Pesa"), (P, "0700123456"), (D, "jana")]),
    # Places and operators, the way customers write them
    ("Bonjour, dama bëgg transférer xaalis ci Mali, ñaata lay jar?", [(C, "Mali")]),
    ("nimetuma KSh 500 kwa M-Pesa kutoka Dar es Salaam",
     [(A, "KSh 500"), (OP, "M-Pesa"), (W, "Dar es Salaam")]),
    ("composez *145*1# pour envoyer a Bamako", [(U, "*145*1#"), (W, "Bamako")]),
    ("na tura ₦2000 daga Kano zuwa Côte d'Ivoire ta MTN",
     [(A, "₦2000"), (W, "Kano"), (C, "Côte d'Ivoire"), (OP, "MTN")]),
    ("mu gana a ofishin ku gobe", []),  # "gana": to meet, not Ghana
    # Nothing to report
    ("Merci beaucoup, bonne journée", []),
    ("Jërëjëf, ba beneen yoon", []),
    ("I tried 2 times", []),
    ("It was COVID time, mars2024 was hard", []),
]


@pytest.mark.parametrize(("message", "expected"), MESSAGES, ids=range(len(MESSAGES)))
def test_facts_of_realistic_messages(message, expected):
    assert [(f["kind"], f["text"]) for f in facts_in(message)] == expected


def test_enough_realistic_messages():
    assert len(MESSAGES) >= 30


def test_facts_are_deduplicated_in_order_of_appearance():
    found = facts(["envoyé 5000 F au 77 123 45 67", "encore: +221771234567, 5 000 F? 6000 F",
                   "TX-123456", "tx-123456"])
    assert [(f["kind"], f["text"]) for f in found] == [
        (A, "5000 F"), (P, "77 123 45 67"), (A, "6000 F"), (T, "TX-123456")]


HOSTILE = {
    "expanding": "ﷺ" * 10_000,
    "letters": "a" * 1_000_000,
    "digits": "1" * 1_000_000,
    "spaced digits": "1 " * 500_000,
    "phone-like": "77 " * 100_000,
    "plus signs": "+1 " * 100_000,
    "ussd-like": "*1" * 100_000,
    "code-like": "A1-" * 100_000,
    "slashes": "1/" * 100_000,
    "control": "\x00\x1f\u202e5000 F\u200b" * 5_000,
    "surrogates": "\ud800 5000 F " * 3_000,
    "many facts": "QK12AB34CD 5 000 F 77 123 45 67 hier 15 mars " * 5_000,
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_messages_cost_little_and_give_bounded_facts(name):
    started = time.process_time()
    found = facts_in(HOSTILE[name])
    elapsed = time.process_time() - started
    assert elapsed < 0.25, f"{name}: {elapsed * 1000:.0f} ms"  # about 5 ms measured
    assert len(found) <= context.MAX_FACTS
    assert all(len(f["text"]) <= 60 and "\x00" not in f["text"] for f in found)


def test_a_whole_hostile_conversation_is_bounded():
    started = time.process_time()
    found = facts(list(HOSTILE.values()) * 5)
    assert time.process_time() - started < 0.5  # about 25 ms measured
    assert len(found) <= context.MAX_FACTS


def test_facts_ignore_what_is_not_text():
    assert facts_in(None) == [] and facts_in(12345) == []  # type: ignore[arg-type]
    assert facts([None, {"text": "5000 F"}, "5000 F"]) == [{"kind": A, "text": "5000 F"}]


# --- the summary ------------------------------------------------------------------------

def record(**escalation) -> ConversationRecord:
    fields = {"conversation_id": "whatsapp:+221771234567", "channel": "twilio_whatsapp",
              "customer": "whatsapp:+221771234567", "language": "fr",
              "reasons": ["negative_sentiment", "asked_for_person"],
              "sentiment": {"label": "negative", "score": -0.72},
              "last_messages": [
                  {"from": "customer", "text": "bonjour", "at": 90.0},
                  {"from": "customer", "text": "J'ai envoyé 5000 F à mon frère, rien reçu",
                   "at": 95.0},
                  {"from": "bot", "text": "D'après notre article « Transfert échoué » : ...",
                   "at": 96.0},
                  {"from": "customer", "text": "je veux parler à quelqu'un", "at": 98.0}],
              "top_intents": [{"name": "request_human", "confidence": 0.93}],
              "created_at": 100.0, **escalation}
    return ConversationRecord(Escalation(**fields))


def user(text, intent, confidence, at):
    return {"event": "user", "text": text, "timestamp": at,
            "parse_data": {"intent": {"name": intent, "confidence": confidence}}}


def bot(text, response, at, **metadata):
    return {"event": "bot", "text": text, "timestamp": at,
            "metadata": {"utter_action": response, **metadata}}


EVENTS = [
    # an earlier episode, handed back: not this request
    user("mon solde svp", "check_balance", 0.97, 10.0),
    bot("Votre solde : composez #111#", "utter_check_balance", 11.0),
    {"event": "pause", "timestamp": 12.0}, {"event": "resume", "timestamp": 20.0},
    # this episode
    user("bonjour", "greet", 0.99, 90.0),
    user("J'ai envoyé 5000 F au 77 123 45 67 hier, rien reçu. Réf MP240315.1234.A12345",
         "transfer_failed", 0.88, 95.0),
    {"event": "action", "name": "action_answer_from_kb", "timestamp": 95.5},
    bot("D'après notre article « Transfert SunuCash échoué » : l'argent revient en 24 h.",
        "utter_kb_answer", 96.0),
    user("???", "nlu_fallback", 0.3, 97.0),
    bot("Pardon, je n'ai pas compris.", "utter_ask_rephrase", 97.5),
    user("ok", "nlu_fallback", 0.2, 97.6),
    bot("Pardon, je n'ai pas compris.", "utter_ask_rephrase", 97.7),
    {"event": "slot", "name": "kb_miss", "value": True, "timestamp": 97.8},
    user("je veux parler à quelqu'un tout de suite", "request_human", 0.93, 98.0),
    bot("Je vous passe à un conseiller.", "utter_handoff_coming", 100.0),
    {"event": "pause", "timestamp": 110.0},
    bot("Bonjour, Awa a rejoint la conversation", None, 111.0, agent="awa"),
    user("merci, c'était 5000 F", "thanks", 0.9, 112.0),
]


def test_the_summary_says_what_the_customer_wants_what_the_bot_tried_and_why():
    summary = summarize(record(), EVENTS)
    assert summary["wants"].startswith("A money transfer that failed: “J'ai envoyé 5000 F")
    assert summary["tried"] == [
        "Answered from the knowledge base: Transfert SunuCash échoué",
        "Asked the customer to rephrase (2×)",
        "Searched the knowledge base: no confident answer",
        "Told the customer an agent is coming"]
    assert summary["why"] == ["The customer is upset or complained (sentiment -0.72)",
                              "The customer asked for a person"]
    assert [(f["kind"], f["text"]) for f in summary["facts"]] == [
        (A, "5000 F"), (P, "77 123 45 67"), (D, "hier"), (T, "MP240315.1234.A12345")]


def test_without_the_tracker_the_record_stands_in():
    summary = summarize(record(), None)
    assert summary["wants"] == ("Talk to a person: “J'ai envoyé 5000 F à mon frère, rien "
                                "reçu”")
    assert summary["tried"] == ["Said: “D'après notre article « Transfert échoué » : ...”"]
    assert summary["facts"] == [{"kind": A, "text": "5000 F"}]


def test_a_request_the_bot_did_not_recognise_is_quoted():
    events = [user("Mon compte marchand est bloqué depuis la mise à jour", "nlu_fallback",
                   0.31, 99.0)]
    summary = summarize(record(reasons=["not_understood"]), events)
    assert summary["wants"] == ("Not recognised by the bot: “Mon compte marchand est bloqué "
                                "depuis la mise à jour”")
    assert summary["why"] == ["The bot did not understand and the knowledge base had no "
                              "answer"]


def test_the_summary_survives_hostile_events():
    events = [None, 5, {"event": "user", "text": {"x": 1}}, {"event": "bot", "metadata": "x"},
              user("ﷺ" * 10_000, "transfer_failed", "high", 99.0),
              {"event": "user", "text": "5000 F", "parse_data": {"intent": "transfer_failed"}},
              bot(None, "utter_kb_answer", 99.5)]
    summary = summarize(record(reasons=["made_up_reason"]), events)
    assert summary["why"] == ["Made up reason"]
    assert len(summary["wants"]) < 300
    assert summary["facts"] == [{"kind": A, "text": "5000 F"}]


def test_every_intent_is_described_or_says_nothing_of_the_request():
    domain = yaml.safe_load(Path("domain/core.yml").read_text("utf-8"))
    described = set(context.INTENT_WANTS) | context.NOT_A_REQUEST
    assert set(domain["intents"]) - described == set()


# --- history, notes, suggestions' text ----------------------------------------------------

@pytest.mark.parametrize(("conversation_id", "key"), [
    ("+221771234567", "phone:+221771234567"),
    ("whatsapp:+221771234567", "phone:+221771234567"),
    ("telegram:123456789", "id:telegram:123456789"),
    ("web:" + "a" * 32, "id:web:" + "a" * 32),
    ("customer-42", "id:customer-42"),
    ("whatsapp:+22177abc", "id:whatsapp:+22177abc"),  # malformed: its own customer
    ("WhatsApp:+221771234567", "id:WhatsApp:+221771234567"),
])
def test_sms_and_whatsapp_of_one_number_are_one_customer(conversation_id, key):
    assert customer_key(conversation_id) == key


def test_an_episode_keeps_what_the_next_agent_needs():
    closed = record()
    closed.closed_at = 200.0
    closed.wrap_up, closed.tags = "resolved", ["refund"]  # the backend's optional fields
    entry = episode(closed, "Awa Diop", 300.0)
    assert entry == {"conversation_id": "whatsapp:+221771234567", "channel": "twilio_whatsapp",
                     "started_at": 100.0, "closed_at": 200.0, "agent_name": "Awa Diop",
                     "wrap_up": "resolved", "tags": ["refund"],
                     "reasons": ["negative_sentiment", "asked_for_person"],
                     "preview": "Talk to a person: “J'ai envoyé 5000 F à mon frère, rien reçu”"}
    assert episode(record(), None, 300.0)["wrap_up"] is None  # a record without them


def test_a_note_is_trimmed_and_refused_when_empty_too_long_or_not_text():
    assert note_text("  Client rappelé,\x00 attend l'agence \ud800 ") == \
        "Client rappelé, attend l'agence \ufffd"
    for bad in ("", "   \n\t", None, 42, ["x"]):
        with pytest.raises(DeskError) as refused:
            note_text(bad)
        assert refused.value.status == 400
    with pytest.raises(DeskError):
        note_text("x" * (MAX_NOTE_CHARS + 1))
    assert len(note_text("é" * MAX_NOTE_CHARS)) == MAX_NOTE_CHARS


def test_article_text_is_plain_and_cut_at_a_word():
    markdown = ("## Steps\n\n1. Dial *145*7# then **confirm** with your _PIN_.\n"
                "* See [our agencies](https://example.com/agences).\n> Keep the `SMS`.\n"
                "<b>Free</b> call 1414.")
    assert plain(markdown) == ("Steps\n\n1. Dial *145*7# then confirm with your PIN.\n"
                               "- See our agencies (https://example.com/agences).\n"
                               "Keep the SMS.\nFree call 1414.")
    long = plain("mot " * 600)
    assert len(long) <= 1000 and long.endswith("mot…")


def test_a_slow_first_load_answers_at_once_and_goes_on(monkeypatch):
    monkeypatch.setattr(suggestions, "LOAD_WAIT_SECONDS", 0.05)
    release = threading.Event()
    empty = SimpleNamespace(candidates=[])
    loaded = SimpleNamespace(knowledge_base=SimpleNamespace(
        rank=lambda question, language: empty,
        retriever=SimpleNamespace(rank_everywhere=lambda question: empty),
        embedder=SimpleNamespace(embed_queries=lambda texts: [None])))

    def slow_load():
        release.wait(10)
        return loaded

    knowledge_base = suggestions.DeskKnowledgeBase(slow_load)

    async def ask():
        return await knowledge_base.articles("mon code PIN", "fr")

    with pytest.raises(suggestions.KnowledgeBaseUnavailable, match="still loading"):
        asyncio.run(ask())
    release.set()
    deadline = time.monotonic() + 10
    while knowledge_base.load_seconds is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert asyncio.run(ask()) == []
    knowledge_base._executor.shutdown()
