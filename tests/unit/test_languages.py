"""Languages are data: a language's own name and the knowledge base's fallback order come
from languages.yml, with defaults for a language it does not mention."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from teranga import languages
from teranga.dialogue.knowledge import kb_reply
from teranga.knowledge_base.index import Chunk
from teranga.knowledge_base.retriever import KbAnswer, fallback_languages
from teranga.languages import Languages, LanguagesError, read_languages
from teranga.settings import PROJECT_ROOT

CONFIG = """pipeline:
- name: addons.components.LanguageDetector
  default_language: {default}
"""
SIX = """fr:
  name: Français
  english_name: French
  kb_fallback: [en]
en:
  name: English
  kb_fallback: [fr]
wo:
  name: Wolof
  kb_fallback: [fr, en]
sw:
  name: Kiswahili
  english_name: Swahili
  kb_fallback: [en, fr]
ha:
  name: Hausa
  kb_fallback: [en, fr]
yo:
  name: Yorùbá
  english_name: Yoruba
  kb_fallback: [en, ha]
"""


def project(tmp_path: Path, text: str | None, codes=("fr", "en", "wo", "sw", "ha", "yo"),
            default: str = "fr") -> Path:
    (tmp_path / "config.yml").write_text(CONFIG.format(default=default), "utf-8")
    (tmp_path / "data" / "nlu").mkdir(parents=True)
    for code in codes:
        (tmp_path / "data" / "nlu" / f"{code}.yml").write_text('version: "3.1"\n', "utf-8")
    if text is not None:
        (tmp_path / "languages.yml").write_text(text, "utf-8")
    return tmp_path


@pytest.fixture
def six_languages(tmp_path, monkeypatch) -> Languages:
    """The project's five languages and Yoruba, added with data only."""
    langs = Languages(project(tmp_path, SIX))
    monkeypatch.setattr(languages, "_project", langs)
    return langs


def answer_in(language: str) -> KbAnswer:
    chunk = Chunk("reset-pin", language, "PIN", "", "Dial *145*6#.", "kb/x.md", 1)
    return KbAnswer(True, chunk, 0.9, answer_language=language, found_in=language)


def test_the_five_languages_keep_their_names_and_fallbacks():
    # The values the code held before languages.yml (a language listed in its own
    # fallback changes nothing: the customer's language is always searched first).
    assert {code: languages.endonym(code) for code in ("fr", "en", "wo", "sw", "ha")} == {
        "fr": "Français", "en": "English", "wo": "Wolof", "sw": "Kiswahili", "ha": "Hausa"}
    assert fallback_languages("wo") == ("fr", "en")
    assert fallback_languages("sw") == ("en", "fr")
    assert fallback_languages("ha") == ("en", "fr")
    assert fallback_languages("fr") == ("en",)
    assert fallback_languages("en") == ("fr",)
    assert languages.spoken_in_english() == "French, English, Wolof, Swahili or Hausa"


def test_a_sixth_language_declared_only_in_data(six_languages):
    assert languages.endonym("yo") == "Yorùbá"
    assert fallback_languages("yo") == ("en", "ha")
    response, variables = kb_reply(answer_in("yo"), "wo")
    assert response == "utter_kb_answer_other_language"
    assert variables["article_language"] == "Yorùbá"
    assert languages.spoken_in_english() == \
        "French, English, Wolof, Swahili, Hausa or Yoruba"


def test_a_language_without_an_entry_gets_defaults(tmp_path):
    langs = Languages(project(tmp_path, "fr:\n  name: Français\n", codes=("fr", "ln")))
    lingala = langs.get("ln")
    assert (lingala.name, lingala.english_name, lingala.kb_fallback) == ("ln", "ln", ("fr", "en"))
    # Declared languages first, in file order; the others after them.
    assert langs.assistant_languages() == ["fr", "ln"]


def test_the_default_fallback_follows_the_default_language(tmp_path):
    langs = Languages(project(tmp_path, None, codes=("en", "ln"), default="en"))
    assert langs.get("ln").kb_fallback == ("en",)
    assert langs.get("en").kb_fallback == ()
    assert langs.get("en").name == "en"


def test_an_edit_is_read_without_a_restart(tmp_path):
    root = project(tmp_path, SIX)
    langs = Languages(root)
    assert langs.get("yo").name == "Yorùbá"
    path = root / "languages.yml"
    path.write_text(SIX.replace("Yorùbá", "Èdè Yorùbá"), "utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert langs.get("yo").name == "Èdè Yorùbá"


@pytest.mark.parametrize("text, line, words", [
    ("fr:\n  name: Français\n  kb_fallback: en\n", 3, "kb_fallback must be a list"),
    ("fr:\n  name: Français\n  endonym: Français\n", 3, "unknown field 'endonym'"),
    ("fr:\n  name: Français\nFrench:\n  name: x\n", 3, "'French' is not a language code"),
    ("fr:\n  name: Français\nfr:\n  name: x\n", 3, "fr is declared twice"),
    ("fr:\n  name: [Français]\n", 2, "name must be a non-empty text"),
    ("fr:\n  name: Français\nwo: Wolof\n", 3, "wo must be a mapping"),
    ("- fr\n- en\n", 1, "expected a mapping"),
    ("fr:\n  name: 'Français\n", 2, "not valid YAML"),
])
def test_a_malformed_file_names_file_and_line(tmp_path, text, line, words):
    path = tmp_path / "languages.yml"
    path.write_text(text, "utf-8")
    with pytest.raises(LanguagesError) as error:
        read_languages(path)
    assert str(path) in str(error.value)
    assert f"line {line}" in str(error.value)
    assert words in str(error.value)


def test_a_running_server_keeps_defaults_on_a_malformed_file(tmp_path, caplog):
    langs = Languages(project(tmp_path, "fr:\n  kb_fallback: en\n"))
    assert langs.get("fr").name == "fr"
    assert "languages.yml, line 2" in caplog.text


def test_the_project_file_is_valid():
    declared = read_languages(PROJECT_ROOT / "languages.yml")
    assert list(declared) == ["fr", "en", "wo", "sw", "ha"]
