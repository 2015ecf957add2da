"""The names of a secret read from a file (teranga/privacy/secret_names.py): a name added
there is found at once, without a developer or a restart; a broken file costs the added
names, not the built-in ones."""

from __future__ import annotations

import logging
import re

import pytest

from teranga.privacy import secret_names, secrets
from teranga.privacy.logs import mask_personal_data_in_logs
from teranga.privacy.secret_names import SecretNamesError, load_secret_names, trie_pattern


@pytest.fixture
def names_file(tmp_path, monkeypatch):
    path = tmp_path / "secret_names.yml"
    monkeypatch.setattr(secret_names._names, "path", lambda: path)
    monkeypatch.setattr(secrets, "_broken_names_said", [])
    return path


def found(text: str) -> list[str]:
    return [item.of(text) for item in secrets.find_secrets(text)]


def test_a_trie_matches_every_phrase_and_prefers_the_longest():
    pattern = re.compile(r"(?:" + trie_pattern(["pin", "pin code", "pincode", "mot de passe"])
                         + r")\b")
    assert [pattern.match(t).group() for t in ("pin", "pin  code", "pincode", "mot de passe")] \
        == ["pin", "pin  code", "pincode", "mot de passe"]
    assert trie_pattern([]) == ""


def test_a_name_added_to_the_file_is_found_at_once(names_file):
    assert found("nywila yangu ni Dodoma2023") == found("sabuni 4412") == []
    names_file.write_text("password:\n  sw: [nywila, nywila yangu]\n", "utf-8")
    assert found("nywila yangu ni Dodoma2023") == ["Dodoma2023"]
    names_file.write_text("code:\n  sw: [sabuni]\n", "utf-8")  # the file is read again
    assert found("sabuni 4412") == ["4412"] and found("nywila yangu ni Dodoma2023") == []


@pytest.mark.parametrize("message", [
    "my pasword is Kofi@1990", "my passwrod is Kofi@1990", "my passsword is Kofi@1990",
    "my pasward is Kofi@1990", "nenosri langu ni Kofi@1990", "verfication code 551902",
    "the verificaton: 551902",
])
def test_names_are_found_with_one_typing_slip_in_their_long_words(message):
    assert found(message) == [message.split()[-1]]


def test_typing_slips_are_made_from_the_file_s_own_long_words(names_file):
    names_file.write_text("password:\n  sw: [nywilayangu]\n", "utf-8")
    assert found("nywilyangu ni Dodoma2023") == ["Dodoma2023"]
    assert found("nywilayangu ni Dodoma2023") == ["Dodoma2023"]
    names_file.write_text("password:\n  sw: [nywila]\n", "utf-8")  # 6 letters: no slips
    assert found("nywla ni Dodoma2023") == []


def test_a_phrase_that_names_something_else_is_no_secret(names_file):
    assert found("my lucky code 4471 won nothing") == ["4471"]
    names_file.write_text("not_a_secret:\n  en: [lucky code]\n", "utf-8")
    assert found("my lucky code 4471 won nothing") == []


@pytest.mark.parametrize("content", ["[pin]", "code: [pin]", "code:\n  en: pin",
                                     "code:\n  en: [1]"])
def test_a_malformed_file_is_refused_clearly(names_file, content):
    names_file.write_text(content, "utf-8")
    with pytest.raises(SecretNamesError):
        load_secret_names(names_file)


def test_a_broken_file_costs_its_names_not_the_built_in_ones(names_file, caplog):
    names_file.write_text("code:\n  en: pin", "utf-8")
    assert found("my pin is 4821") == ["4821"]
    assert found("my pin is 4822") == ["4822"]
    assert caplog.text.count("built-in names only") == 1


def test_a_broken_file_is_said_once_even_when_log_lines_are_masked(names_file, caplog):
    """The masking of the log line reads the names again: it must not say it again, and
    again (it did, 85 times, in a process whose logs are masked)."""
    before = logging.getLogRecordFactory()
    mask_personal_data_in_logs()
    try:
        names_file.write_text("code:\n  en: pin", "utf-8")
        assert found("my pin is 4821") == ["4821"]
    finally:
        logging.setLogRecordFactory(before)
    assert caplog.text.count("built-in names only") == 1
