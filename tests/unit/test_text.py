import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from teranga.text import (
    MAX_MODEL_CHARS,
    MAX_SYMBOL_RUN,
    MAX_SYMBOLS,
    bounded,
    clean_message,
    normalize,
    words,
)


def test_normalize_strips_accents_case_and_letter_runs():
    assert normalize("RÉSEAU bëgg Ɗaya merciiiii") == "reseau begg daya mercii"


def test_words_ignore_digits_codes_and_emoji():
    assert words("slt *144# 5000f 👍 j'ai un pb") == ["slt", "j'ai", "un", "pb"]


def test_clean_message_removes_control_characters_and_blank_lines():
    assert clean_message("\x00bon\x07jour\u200b  \n\n  toi\x1b") == "bon jour\ntoi"
    assert clean_message(" \t\x00 ") == ""


# A long customer message: the NLU must see all of it.
FRENCH_600 = (
    "Bonjour, je vous écris parce que depuis hier soir je n'arrive plus à envoyer de "
    "l'argent avec SunuCash. J'ai essayé trois fois d'envoyer 25000 francs à ma sœur à "
    "Thiès, et à chaque fois le message dit que la transaction a échoué, mais mon solde a "
    "quand même baissé de 25000. Je ne comprends pas ce qui se passe, c'est la première "
    "fois que ça m'arrive. J'ai besoin que cet argent arrive aujourd'hui car c'est pour "
    "payer l'hôpital. Pouvez-vous vérifier ce qui s'est passé et me rembourser rapidement ? "
    "Mon numéro est le même que celui-ci, le code de la transaction est TX-88213. Merci de "
    "me répondre vite, je suis inquiète !!")


def symbols(text: str) -> int:
    return sum(unicodedata.category(char)[0] == "S" for char in text)


def test_bounded_leaves_normal_messages_as_they_are():
    assert len(FRENCH_600) >= 600
    for text in (FRENCH_600, "slt *144# 5000f 👍 j'ai un pb", "merci !!!! 😡😡😡😡", ""):
        assert bounded(text) == text


def test_bounded_is_nfkc_without_what_native_code_cannot_take():
    assert bounded("ﬁn\x00de\u200bmois\ud800 ５０００Ｆ") == "fin de mois 5000F"
    bounded("\udfff\ud800x").encode("utf-8")  # no lone surrogate left


def test_bounded_cuts_runs_of_one_symbol():
    assert bounded("non!!!!!!!!!! 😡😡😡😡😡😡😡😡") == "non!!!! 😡😡😡😡"
    assert bounded("❤️" * 9) == "❤️" * MAX_SYMBOL_RUN  # an emoji with its variation selector
    # letters and digits stay
    assert bounded("merciiiiii ....... 5000000") == "merciiiiii .... 5000000"


def test_bounded_keeps_the_words_and_the_first_symbols():
    text = " ".join(["mon argent 😡😂🙏🏽💔"] * 20)
    assert symbols(text) == 100
    assert words(bounded(text)) == words(text)
    assert bounded(text).startswith("mon argent 😡😂🙏🏽💔 mon argent 😡😂🙏🏽💔")
    assert symbols(bounded(text)) == MAX_SYMBOLS


def test_bounded_cuts_long_text_at_a_word():
    text = "transfert échoué " * 200
    cut = bounded(text)
    assert len(cut) <= MAX_MODEL_CHARS
    assert text.startswith(cut) and text[len(cut)] == " "
    assert bounded("x" * 5000) == "x" * MAX_MODEL_CHARS  # no space: cut anyway


def test_bounded_cuts_what_nfkc_expands():
    # U+FDFA is one character of 18 after NFKC: 2000 of them are 36000 characters.
    assert len(bounded("\ufdfa" * 2000)) <= MAX_MODEL_CHARS
    assert len(bounded("\ufdfa" * 10)) == 10 * 18  # short: whole
    assert "\ufdfa" not in bounded("\ufdfa")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=3000) | st.text(st.sampled_from("\ufdfa😡!a ❤️\u0301"), max_size=3000))
def test_bounded_keeps_its_limits_for_any_text(text):
    once = bounded(text)
    assert len(once) <= MAX_MODEL_CHARS
    assert symbols(once) <= MAX_SYMBOLS
    assert unicodedata.normalize("NFKC", once) == once
    once.encode("utf-8")
    assert bounded(once) == once
