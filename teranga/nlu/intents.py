"""Intent classification: what a message means, and how it is spelt, blended.

- Meaning: a multilingual sentence embedding (the knowledge base's embedder, e5-small by
  default) fed to a multinomial logistic regression. It recognises paraphrases it never
  saw ("my card got swallowed by the atm"), which bag-of-words models miss.
- Spelling: a linear model (logistic loss, stochastic gradient descent) on TF-IDF word
  1-2-grams and character 2-5-grams of the normalised text. It carries the languages the
  embedder knows least (Wolof, Hausa), typos and SMS spellings, and trains in seconds.

The two probability distributions are averaged with `spelling_weight`. The confidence of
the best intent is what FallbackClassifier and HandoffPolicy compare with their thresholds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import joblib
import numpy as np

from teranga.nlu.ngrams import ngram_features
from teranga.text import bounded, normalize

EMBED_BATCH = 256
# Punctuation and emoji say little about an intent, and would let "xqzt ??" borrow the
# question marks of the `bot_challenge` examples; the embedding still sees them.
_NOT_A_WORD = re.compile(r"[^\w\s]+")
WEIGHTS_FILE, SPELLING_FILE, META_FILE = "meaning.npz", "spelling.joblib", "intents.json"


class IntentModel:
    def __init__(self, embedder, intents: list[str], coef: np.ndarray, intercept: np.ndarray,
                 spelling) -> None:
        self.embedder = embedder
        self.intents = intents
        self.coef, self.intercept = coef, intercept
        self.spelling = spelling
        # The spelling model's weights, laid out for one sparse row times a dense matrix:
        # sklearn's own predict_proba multiplies through a transposed view, 30 times slower.
        features, linear = spelling.steps[0][1], spelling.steps[-1][1]
        self._features = features
        self._spelling_coef = np.ascontiguousarray(linear.coef_.T)
        self._spelling_intercept = linear.intercept_

    @classmethod
    def train(cls, texts: Sequence[str], intents: Sequence[str], embedder, *,
              regularization: float = 50.0, max_iter: int = 200) -> IntentModel:
        from sklearn.linear_model import LogisticRegression

        vectors = embed(embedder, list(texts))
        # C is large because embeddings are unit vectors: their differences are small.
        linear = LogisticRegression(C=regularization, max_iter=max_iter, random_state=7)
        linear.fit(vectors, list(intents))
        spelling = spelling_model().fit([spelling_text(text) for text in texts], list(intents))
        if list(spelling.classes_) != list(linear.classes_):
            raise ValueError("the two intent models disagree on the intents")
        return cls(embedder, [str(c) for c in linear.classes_], linear.coef_,
                   linear.intercept_, spelling)

    def probabilities(self, text: str, spelling_weight: float = 0.5,
                      spelling_sure: float = 1.01) -> np.ndarray:
        """Each intent's probability, in the order of `self.intents`. When the n-gram model's
        best intent reaches `spelling_sure`, its answer stands alone and the embedding, which
        costs ten times more, is skipped. Both models read `bounded(text)`."""
        text = bounded(text)
        spelling = self._spelling_probabilities(spelling_text(text))
        if spelling.max() >= spelling_sure:
            return spelling
        logits = self.coef @ embed(self.embedder, [text])[0] + self.intercept
        meaning = np.exp(logits - logits.max())
        meaning /= meaning.sum()
        return (1 - spelling_weight) * meaning + spelling_weight * spelling

    def _spelling_probabilities(self, text: str) -> np.ndarray:
        """sklearn's one-vs-rest probabilities for SGD's logistic loss, computed directly."""
        scores = self._features.transform([text]) @ self._spelling_coef
        probabilities = 1.0 / (1.0 + np.exp(-(np.asarray(scores)[0] + self._spelling_intercept)))
        return probabilities / probabilities.sum()

    def rank(self, text: str, length: int, spelling_weight: float = 0.5,
             spelling_sure: float = 1.01) -> list[tuple[str, float]]:
        probabilities = self.probabilities(text, spelling_weight, spelling_sure)
        best = np.argsort(-probabilities)[:length]
        return [(self.intents[i], float(probabilities[i])) for i in best]

    def save(self, directory: Path) -> None:
        np.savez(directory / WEIGHTS_FILE, coef=self.coef, intercept=self.intercept)
        joblib.dump(self.spelling, directory / SPELLING_FILE)
        (directory / META_FILE).write_text(json.dumps(
            {"intents": self.intents, "embedder": self.embedder.name}), "utf-8")

    @classmethod
    def load(cls, directory: Path, embedder) -> IntentModel:
        meta = json.loads((directory / META_FILE).read_text("utf-8"))
        if meta["embedder"] != embedder.name:
            raise ValueError(f"the intent model was trained with the {meta['embedder']} "
                             f"embedder, not {embedder.name}: retrain it")
        weights = np.load(directory / WEIGHTS_FILE)
        return cls(embedder, meta["intents"], weights["coef"], weights["intercept"],
                   joblib.load(directory / SPELLING_FILE))


def spelling_text(text: str) -> str:
    return _NOT_A_WORD.sub(" ", normalize(text))


def spelling_model():
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import make_pipeline

    return make_pipeline(ngram_features(), SGDClassifier(loss="log_loss", alpha=1e-5,
                                                         max_iter=30, tol=None, random_state=7))


def embed(embedder, texts: list[str]) -> np.ndarray:
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    batches = [embedder.embed_queries(texts[i : i + EMBED_BATCH])
               for i in range(0, len(texts), EMBED_BATCH)]
    return np.vstack(batches)
