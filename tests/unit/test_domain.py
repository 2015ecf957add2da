import re
from pathlib import Path

import pytest
import yaml

from teranga.dialogue.domain import (
    DomainError,
    build_domain,
    language_condition,
    missing_translations,
)

LANGUAGES = {"fr", "en", "wo", "sw", "ha"}


def test_every_language_has_every_response_and_every_intent_has_one():
    assert missing_translations(Path("domain")) == {}
    domain = build_domain(Path("domain"), "fr")
    external = {"handed_back", "media_received"}  # sent by the desk or a channel; a rule answers
    for intent in set(domain["intents"]) - external:
        assert f"utter_{intent}" in domain["responses"], intent
    for name, variations in domain["responses"].items():
        languages = {v["condition"][0]["value"] for v in variations if "condition" in v}
        assert languages == LANGUAGES, name
        assert any("condition" not in v for v in variations), f"{name} has no default"


def test_every_language_has_training_data():
    assert {p.stem for p in Path("data/nlu").glob("*.yml")} == LANGUAGES


def write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True))


def test_responses_merge_across_languages_with_the_default_unconditioned(tmp_path):
    write(tmp_path / "core.yml", {"version": "3.1", "intents": ["greet"]})
    write(tmp_path / "responses/fr.yml", {"responses": {"utter_greet": [{"text": "Bonjour"}]}})
    write(tmp_path / "responses/wo.yml", {"responses": {"utter_greet": [{"text": "Salaam"}]}})
    merged = build_domain(tmp_path, "fr")["responses"]["utter_greet"]
    assert merged == [
        {"text": "Bonjour", "condition": language_condition("fr")},
        {"text": "Salaam", "condition": language_condition("wo")},
        {"text": "Bonjour"},
    ]


def test_missing_translation_is_reported(tmp_path):
    write(tmp_path / "responses/fr.yml", {"responses": {"utter_a": [{"text": "a"}],
                                                        "utter_b": [{"text": "b"}]}})
    write(tmp_path / "responses/wo.yml", {"responses": {"utter_a": [{"text": "a"}]}})
    assert missing_translations(tmp_path) == {"wo": ["utter_b"]}


def test_a_wrong_condition_names_the_file(tmp_path):
    write(tmp_path / "core.yml", {"intents": []})
    write(tmp_path / "responses/fr.yml", {"responses": {"utter_a": [
        {"text": "a", "condition": language_condition("en")}]}})
    with pytest.raises(DomainError, match="fr.yml"):
        build_domain(tmp_path, "fr")


CUSTOMER_INFORMED = ["utter_agent_joined", "utter_agent_closed", "utter_back_with_bot",
                     "utter_handoff_no_speaker", "utter_handoff_no_speaker_here",
                     "utter_handoff_busy", "utter_queue_position", "utter_queue_position_closed",
                     "utter_queue_position_away", "utter_queue_position_no_speaker",
                     "utter_queue_unchanged"]


def test_what_the_customer_is_told_about_agents_exists_in_every_language():
    domain = build_domain(Path("domain"), "fr")
    for name in CUSTOMER_INFORMED:
        languages = {v["condition"][0]["value"] for v in domain["responses"][name]
                     if "condition" in v}
        assert languages == LANGUAGES, name


def test_every_language_fills_in_the_same_variables():
    domain = build_domain(Path("domain"), "fr")
    for name, variations in domain["responses"].items():
        variables = {frozenset(re.findall(r"\{(\w+)\}", v["text"])) for v in variations}
        assert len(variables) == 1, f"{name}: {variables}"
