from teranga.nlu.text import clean_message, normalize, words


def test_normalize_strips_accents_case_and_letter_runs():
    assert normalize("RÉSEAU bëgg Ɗaya merciiiii") == "reseau begg daya mercii"


def test_words_ignore_digits_codes_and_emoji():
    assert words("slt *144# 5000f 👍 j'ai un pb") == ["slt", "j'ai", "un", "pb"]


def test_clean_message_removes_control_characters_and_blank_lines():
    assert clean_message("\x00bon\x07jour\u200b  \n\n  toi\x1b") == "bon jour\ntoi"
    assert clean_message(" \t\x00 ") == ""
