"""Any message through the NLU as Rasa's pipeline runs it (language, then sentiment in that
language, then intents): nothing raises, and every model reads a bounded text."""

from __future__ import annotations

import hashlib
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from teranga import corpora
from teranga.nlu import fasttext_models
from teranga.nlu.intents import IntentModel
from teranga.nlu.langid import LanguageIdentifier, StickinessPolicy, default_lid176_path
from teranga.nlu.sentiment import Lexicon, SentimentScorer
from teranga.text import MAX_MODEL_CHARS, MAX_SYMBOLS
from tests.fuzz.settings import fuzz

LANGUAGES = ["en", "fr", "ha", "sw", "wo"]
# What customers and attackers send: any text, and text made of what costs the models most.
PIECES = ["\ufdfa", "😡", "😂", "🙏🏽", "❤️", "!", "?", " ", "but ", "pas ", "s ", "mon argent ",
          "\u0301", "\x00", "\ud800", "\n"]
messages = st.text(max_size=3000) | st.lists(st.sampled_from(PIECES), max_size=1000).map(
    lambda pieces: "".join(pieces)[:3000])


class RecordingEmbedder:
    """A stand-in for the sentence embedder that records what it is asked to embed."""

    name, dim = "recording", 16

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.seen.extend(texts)
        seeds = [int(hashlib.sha256(t.encode("utf-8")).hexdigest()[:8], 16) for t in texts]
        vectors = np.array([np.random.default_rng(s).normal(size=self.dim) for s in seeds])
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def identifier(langid_model):
    lid176 = fasttext_models.load(default_lid176_path())
    return LanguageIdentifier(langid_model, LANGUAGES, "fr", lid176, 0.5, StickinessPolicy())


@pytest.fixture(scope="module")
def scorer():
    rows = [(label, text) for text, label in corpora.labelled_rows(Path("data/corpora/ha"))]
    lexicons = {p.stem: Lexicon.read(p) for p in Path("data/sentiment/lexicon").glob("*.tsv")}
    return SentimentScorer({"ha": SentimentScorer.train(rows[::5])}, lexicons)


@pytest.fixture(scope="module")
def intents():
    examples = [(intent, text) for _lang, intent, text in corpora.nlu_examples(Path("data/nlu"))]
    return IntentModel.train([text for _, text in examples], [intent for intent, _ in examples],
                             RecordingEmbedder())


def symbols(text: str) -> int:
    return sum(unicodedata.category(char)[0] == "S" for char in text)


@fuzz
@given(text=messages, current=st.sampled_from([None, *LANGUAGES]))
def test_any_message_goes_through_the_nlu(identifier, scorer, intents, text, current):
    decision = identifier.decide(text, current)
    assert decision.code in LANGUAGES
    for language in {decision.code, "ha", "wo"}:
        assert -1.0 <= scorer.score(text, language).score <= 1.0
    intents.embedder.seen.clear()
    ranking = intents.rank(text, 3, spelling_weight=0.5)
    assert len(ranking) == 3 and all(np.isfinite(p) for _, p in ranking)
    (embedded,) = intents.embedder.seen
    assert len(embedded) <= MAX_MODEL_CHARS and symbols(embedded) <= MAX_SYMBOLS
