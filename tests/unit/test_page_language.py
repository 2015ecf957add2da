"""The language a web-chat page says it is in (rasa-webchat's `customData`) is where a
conversation starts from: the whole language of an intent payload such as `/greet`, the
prior of a first typed message; the conversation's own language wins once it has one."""

import pytest

from teranga.nlu.langid import LanguageIdentifier, StickinessPolicy

LANGUAGES = ["en", "fr", "ha", "sw", "wo"]


@pytest.fixture(scope="module")
def identifier(langid_model):
    return LanguageIdentifier(langid_model, LANGUAGES, "fr", policy=StickinessPolicy())


def test_a_payload_takes_the_page_s_language(identifier):
    assert identifier.without_text(None, "wo").code == "wo"
    assert identifier.without_text("sw", "wo").code == "sw"  # the conversation's own wins
    assert identifier.without_text(None, "xx").code == "fr"  # not ours: the default
    assert identifier.without_text(None, None).code == "fr"


def test_a_short_first_message_keeps_the_page_s_language(identifier):
    decision = identifier.decide("ok merci", current=None, start="wo")
    assert decision.code == "wo" and not decision.switched
    assert identifier.decide("ok merci", current=None, start="xx").code != "xx"


def test_a_clear_sentence_still_says_its_own_language(identifier):
    decision = identifier.decide("hello please i want to check my airtime balance", None, "wo")
    assert decision.code == "en" and not decision.switched
