"""What the customer reads when an agent joins, closes or hands back: the bot's own words
from domain/responses/<language>.yml, in every language."""

import os
from pathlib import Path

import pytest
import yaml

from teranga.handoff.customer_notices import RESPONSES, notice_text

LANGUAGES = ("en", "fr", "wo", "sw", "ha")


def response_text(language: str, name: str) -> str:
    data = yaml.safe_load(Path(f"domain/responses/{language}.yml").read_text("utf-8"))
    return data["responses"][name][0]["text"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_notice_exists_in_every_language(language):
    joined = notice_text(language, "agent_joined", agent_name="Awa Diop")
    assert joined == response_text(language, "utter_agent_joined").replace(
        "{agent_name}", "Awa Diop")
    assert "Awa Diop" in joined and "{" not in joined
    for kind in ("requeued", "closed", "returned"):
        assert notice_text(language, kind) == response_text(language, RESPONSES[kind])
    texts = [notice_text(language, kind, agent_name="Awa") for kind in RESPONSES]
    assert len(set(texts)) == len(RESPONSES), "each notice says something of its own"


def test_the_languages_differ():
    assert len({notice_text(language, "closed") for language in LANGUAGES}) == len(LANGUAGES)


@pytest.mark.parametrize("language", ["de", "", "../fr", "FR", None, 3, "fr\n", "x" * 10_000])
def test_an_unknown_language_gets_the_default_language(language):
    assert notice_text(language, "closed") == response_text("fr", "utter_agent_closed")


@pytest.mark.parametrize("kind", ["opened", "", None, 7, "utter_agent_closed", "CLOSED"])
def test_an_unknown_kind_is_none(kind):
    assert notice_text("fr", kind) is None


def test_a_missing_name_is_none_rather_than_a_placeholder():
    assert notice_text("wo", "agent_joined") is None


def test_a_name_is_inserted_as_written():
    name = "{agent_name} 🙂 Ñdèye <b>"
    assert name in notice_text("sw", "agent_joined", agent_name=name)


def test_an_edited_file_is_read_again(tmp_path):
    folder = tmp_path / "responses"
    folder.mkdir()
    path = folder / "fr.yml"
    path.write_text('responses:\n  utter_agent_closed:\n  - text: "Fermé."\n', "utf-8")
    assert notice_text("fr", "closed", responses_dir=folder) == "Fermé."
    path.write_text('responses:\n  utter_agent_closed:\n  - text: "Clôturé, merci."\n',
                    "utf-8")
    os.utime(path, (1, 1))  # a different modification time, whatever the clock's resolution
    assert notice_text("fr", "closed", responses_dir=folder) == "Clôturé, merci."
