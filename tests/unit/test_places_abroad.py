"""Which places a customer names are abroad (teranga/dialogue/answering.py)."""

from __future__ import annotations

import pytest

from teranga.dialogue.answering import as_asked_abroad, names_a_place_abroad


@pytest.mark.parametrize(("question", "abroad"), [
    ("je voyage au Mali la semaine prochaine", True),
    ("send money to my sister in Cotonou", True),
    ("ina son tura kudi zuwa Ghana", True),
    ("pas de réseau à Pikine", False),
    ("agence de Dakar ouverte le dimanche ?", False),
    ("au Sénégal, combien coûte le pass 1 Go", False),
    ("combien coûte le pass 1 Go", False),
])
def test_a_country_or_town_outside_the_operators_country_is_abroad(question, abroad):
    assert names_a_place_abroad(question) is abroad


def test_the_question_is_searched_with_the_customers_word_for_abroad():
    assert as_asked_abroad("dama bëgg yónnee xaalis Mali", "wo").endswith("bitim-réew")
    assert as_asked_abroad("send money to Lagos", "en").endswith("abroad")
    assert as_asked_abroad("send money to my mother", "en") == "send money to my mother"
