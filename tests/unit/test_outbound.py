import pytest

from teranga.channels.outbound import (
    Option,
    chosen_option,
    is_gsm7,
    numbered,
    sms_length,
    split_for_sms,
    split_long,
)

FRENCH = ("Un transfert échoué est remboursé automatiquement sous 24 heures. Sinon, gardez "
          "l'identifiant de la transaction (il commence par TX) : un conseiller le vérifiera. "
          "Merci de votre patience !")
HAUSA = ("An kammala buƙatarka. Zan mayar da kai ga mataimakinmu; rubuta \"ma'aikaci\" idan "
         "kana bukatar mu kuma. Sai anjima!")


def test_gsm7_is_told_from_ucs2():
    assert is_gsm7("Bonjour, ça va ? Prix: 5000 F") is False  # "ç" is not GSM-7, only "Ç"
    assert is_gsm7("Jerejef, ba beneen yoon")
    assert sms_length("a{b}") == (6, 160)  # braces take two septets
    assert sms_length("ƙ") == (1, 70)
    assert sms_length("👍") == (2, 70)  # one emoji is two UTF-16 units


@pytest.mark.parametrize("text", [FRENCH, HAUSA * 3, "Hello there. " * 40, "x" * 500,
                                  "1. Oui\n2. Non\n" * 30])
def test_sms_parts_each_fit_one_segment_and_keep_every_word(text):
    parts = split_for_sms(text)
    for part in parts:
        length, limit = sms_length(part)
        assert 0 < length <= limit, part
    assert "".join(parts).replace(" ", "").replace("\n", "") == \
        text.replace(" ", "").replace("\n", "")


def test_sms_cuts_fall_after_sentences():
    parts = split_for_sms(FRENCH)
    assert len(parts) == 2 and all(p.endswith((".", "!")) for p in parts)


def test_a_short_text_is_not_split_and_line_breaks_stay():
    assert split_for_sms("Oui ?") == ["Oui ?"]
    assert split_long("line one\nline two", 12) == ["line one", "line two"]
    assert split_long("line one\nline two") == ["line one\nline two"]
    assert split_for_sms("   ") == []


def test_long_messages_are_cut_under_4096_characters():
    parts = split_long("Habari. " * 1000)
    assert len(parts) == 2 and all(len(p) <= 4096 for p in parts)


def test_buttons_become_numbered_options_and_a_number_picks_one():
    options = [Option("Oui", "/affirm"), Option("Non", "/deny")]
    assert numbered("Voulez-vous un rappel ?", options) == \
        "Voulez-vous un rappel ?\n1. Oui\n2. Non"
    assert chosen_option("2", options) == options[1]
    assert chosen_option(" 1. ", options) == options[0]
    assert chosen_option("3", options) is None
    assert chosen_option("2 fois", options) is None
    assert chosen_option("1", []) is None
