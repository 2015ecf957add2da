"""The model trained in this run, scored on held-out messages never used for training."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from teranga.evaluation import evaluate, read_heldout, table

HELDOUT = Path("tests/data/heldout.yml")
LANGUAGES = ["en", "fr", "ha", "sw", "wo"]


@pytest.fixture(scope="module")
def heldout():
    return read_heldout(HELDOUT)


@pytest.fixture(scope="module")
def scores(trained_model, heldout):
    result = evaluate(trained_model, heldout)
    print("\n" + table(result))
    return result


def test_heldout_messages_are_not_training_examples(heldout):
    training = set()
    for path in Path("data/nlu").glob("*.yml"):
        for block in yaml.safe_load(path.read_text("utf-8"))["nlu"]:
            training.update(line[2:].strip().lower() for line in block["examples"].splitlines()
                            if line.startswith("- "))
    overlap = [item["text"] for item in heldout if item["text"].strip().lower() in training]
    assert not overlap


def test_heldout_covers_each_language(heldout):
    for language in LANGUAGES:
        assert sum(item["language"] == language for item in heldout) >= 15


@pytest.mark.parametrize("language", LANGUAGES)
def test_language_accuracy_on_messages_of_three_words_or_more(scores, language):
    assert scores[language].long_language_accuracy >= 0.95, scores[language].errors


@pytest.mark.parametrize("language", LANGUAGES)
def test_intent_accuracy(scores, language):
    assert scores[language].intent_accuracy >= 0.85, scores[language].errors
