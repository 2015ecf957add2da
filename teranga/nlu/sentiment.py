"""Sentiment of a customer's message, in the message's language.

- French and English: the VADER lexicons (`vaderSentiment-fr`, `vaderSentiment`).
- Languages with labelled data (`data/corpora/<lang>/*.tsv`, AfriSenti for Hausa and
  Swahili): a fastText classifier trained on it.
- Any other language: the language's own lexicon (`data/sentiment/lexicon/<lang>.tsv`) if
  there is one, together with the French and English lexicons, because customers mix
  French or English into Wolof, Lingala or Bambara; the strongest signal wins.
- Everywhere: emoji (`data/sentiment/lexicon/emoji.tsv`), which mean the same in any language.

Scores run from -1 (angry) to 1 (pleased), like VADER's compound score.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from teranga.nlu import fasttext_models
from teranga.nlu.text import normalize, words

NEGATIVE, NEUTRAL, POSITIVE = "negative", "neutral", "positive"
# VADER's own cut-offs for its compound score.
LABEL_THRESHOLD = 0.05
FASTTEXT_PARAMS = {"lr": 0.3, "epoch": 15, "wordNgrams": 2, "minn": 3, "maxn": 5, "dim": 50,
                   "bucket": 200_000, "thread": 1}
EMOJI_LEXICON = "emoji"
# A lexicon or emoji score at least this strong may override a classifier's.
LEXICON_OVERRIDE = 0.3
MIN_LEXICON_MATCHES = 2


@dataclass(frozen=True)
class Sentiment:
    label: str
    score: float
    model: str

    def as_dict(self) -> dict:
        return {"label": self.label, "score": round(self.score, 4), "model": self.model}


def label_for(score: float) -> str:
    if score >= LABEL_THRESHOLD:
        return POSITIVE
    if score <= -LABEL_THRESHOLD:
        return NEGATIVE
    return NEUTRAL


def squash(total: float) -> float:
    """VADER's normalisation of a summed valence into (-1, 1)."""
    return total / math.sqrt(total * total + 15) if total else 0.0


class Lexicon:
    """Word and phrase valences (-4..4); phrases of up to three words match."""

    def __init__(self, valences: dict[str, float]) -> None:
        self.valences = valences

    @classmethod
    def read(cls, path: Path) -> Lexicon:
        valences = {}
        for line in path.read_text("utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                word, value = line.rsplit("\t", 1)
                valences[normalize(word.strip())] = float(value)
        return cls(valences)

    def total(self, text: str) -> float:
        return sum(self.matches(text))

    def matches(self, text: str) -> list[float]:
        """The valence of every word or phrase of the text found in the lexicon."""
        tokens = words(normalize(text))  # punctuation must not hide "sosai," from "sosai"
        found = []
        for size in (1, 2, 3):
            for i in range(len(tokens) - size + 1):
                value = self.valences.get(" ".join(tokens[i : i + size]))
                if value is not None:
                    found.append(value)
        return found

    def emoji_total(self, text: str) -> float:
        return sum(self.valences.get(char, 0.0) for char in text)


class SentimentScorer:
    def __init__(self, fasttext_models_by_lang: dict, lexicons: dict[str, Lexicon]) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer as VaderEn
        from vaderSentiment_fr.vaderSentiment import SentimentIntensityAnalyzer as VaderFr

        self.vader = {"en": VaderEn(), "fr": VaderFr()}
        self.classifiers = fasttext_models_by_lang
        self.lexicons = lexicons
        self.emoji = lexicons.get(EMOJI_LEXICON, Lexicon({}))

    @staticmethod
    def train(rows: Iterable[tuple[str, str]]):
        """A fastText sentiment model from (label, text) rows (positive/neutral/negative)."""
        normalized = ((label, normalize(text)) for label, text in rows)
        return fasttext_models.train_classifier(normalized, balance=False, **FASTTEXT_PARAMS)

    def score(self, text: str, language: str) -> Sentiment:
        emoji = squash(self.emoji.emoji_total(text))
        if language in self.classifiers and language not in self.vader:
            return self._fasttext(text, language, emoji)
        if language in self.vader:
            base, model = self._vader(text, language), f"vader-{language}"
        else:
            base, model = self._fallback(text, language)
        score = max((base, emoji), key=abs)
        return Sentiment(label=label_for(score), score=score, model=model)

    def _vader(self, text: str, language: str) -> float:
        return self.vader[language].polarity_scores(text)["compound"]

    def _fasttext(self, text: str, language: str, emoji: float) -> Sentiment:
        """The classifier's most likely label, unless the language's lexicon or emoji give a
        clearly stronger signal: the classifier learnt from tweets, not from customers."""
        probs = fasttext_models.probabilities(self.classifiers[language], normalize(text))
        score = probs.get(POSITIVE, 0.0) - probs.get(NEGATIVE, 0.0)
        lexicon = self.lexicons.get(language)
        matches = lexicon.matches(text) if lexicon else []
        # One topical word ("utapeli": scam, in "how do I spot a scam?") is not a mood.
        from_lexicon = squash(sum(matches)) if len(matches) >= MIN_LEXICON_MATCHES else 0.0
        for other, model in ((from_lexicon, "lexicon"), (emoji, "emoji")):
            if abs(other) >= LEXICON_OVERRIDE and abs(other) > abs(score):
                return Sentiment(label_for(other), other, f"{model}-{language}")
        label = max(probs, key=probs.get)
        return Sentiment(label=label, score=score, model=f"fasttext-{language}")

    def _fallback(self, text: str, language: str) -> tuple[float, str]:
        candidates = [(self._vader(text, lang), f"vader-{lang}") for lang in self.vader]
        if language in self.lexicons:
            candidates.append((squash(self.lexicons[language].total(text)), f"lexicon-{language}"))
        return max(candidates, key=lambda candidate: abs(candidate[0]))
