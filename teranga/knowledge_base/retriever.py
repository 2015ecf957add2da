"""Answering a question from the knowledge-base index.

Ranking adds a lexical signal (BM25 over words, codes and stems) to the dense cosine
similarity; a logistic calibration turns the best score and its margin over the runner-up
into a confidence. Search runs in the customer's language first; when that language has no
confident answer, the other languages are searched and the answer is given in the
customer's language if the article is translated, else in the language it was found in.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np

from teranga.embedders import Embedder
from teranga.knowledge_base.index import Chunk, StoredIndex, faiss_file
from teranga.knowledge_base.lexical import BM25
from teranga.languages import kb_fallback
from teranga.text import bounded

RANKINGS = ("combined", "dense", "lexical")
LEXICAL_WEIGHT = 0.15
# BM25 scores grow with the query; s / (s + LEXICAL_HALF) maps them into [0, 1).
LEXICAL_HALF = 8.0
CANDIDATES = 30


def fallback_languages(language: str) -> tuple[str, ...]:
    """When an article has no translation in the customer's language, the languages to
    answer in, in order: the ones its customers most often read (`languages.yml`)."""
    return kb_fallback(language)


FEATURES = ("top", "margin", "lexical", "dense_z")


@dataclass(frozen=True)
class Calibration:
    """confidence = sigmoid(weights . features + bias), over the FEATURES of a ranking.

    The default (before any fit) trusts the dense score's distance from the query's other
    matches; `teranga/knowledge_base/calibrate.py` fits the real one.
    """

    weights: tuple[float, ...] = (0.0, 0.0, 0.0, 2.0)
    bias: float = -5.0
    # The confidence below which the assistant does not answer from the knowledge base.
    threshold: float = 0.5

    def confidence(self, *features: float) -> float:
        z = sum(w * f for w, f in zip(self.weights, features, strict=True)) + self.bias
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    @classmethod
    def load(cls, path: Path) -> Calibration:
        if not path.exists():
            return cls()
        data = json.loads(path.read_text("utf-8"))
        weights = tuple(data["weights"][name] for name in FEATURES)
        return cls(weights, data["bias"], data["threshold"])

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"weights": dict(zip(FEATURES, self.weights, strict=True)), "bias": self.bias,
                "threshold": self.threshold}
        path.write_text(json.dumps(data, indent=2) + "\n", "utf-8")

    @classmethod
    def fit(cls, features: list[tuple[float, ...]], correct: list[bool]) -> Calibration:
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=10.0, max_iter=1000).fit(np.array(features),
                                                                np.array(correct))
        return cls(tuple(float(w) for w in model.coef_[0]), float(model.intercept_[0]))

    def with_threshold(self, threshold: float) -> Calibration:
        return Calibration(self.weights, self.bias, threshold)


@dataclass(frozen=True)
class Candidate:
    chunk: Chunk
    score: float
    dense: float
    lexical: float


@dataclass
class Ranking:
    """Articles ranked for one query in one language, best section of each."""

    language: str
    candidates: list[Candidate]
    confidence: float = 0.0
    # How far the best dense match stands above the query's other matches, in standard
    # deviations: comparable across languages and query lengths, unlike the raw cosine.
    dense_z: float = 0.0

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    def features(self) -> tuple[float, float, float, float]:
        """What the confidence is computed from (see FEATURES): the best score, its margin
        over the runner-up, its exact word or code matches, and dense_z."""
        if not self.candidates:
            return 0.0, 0.0, 0.0, 0.0
        top = self.candidates[0]
        second = self.candidates[1].score if len(self.candidates) > 1 else 0.0
        return top.score, top.score - second, top.lexical, self.dense_z


@dataclass
class KbAnswer:
    """What the assistant would say, or why it would not."""

    found: bool
    chunk: Chunk | None = None
    confidence: float = 0.0
    answer_language: str | None = None
    found_in: str | None = None
    translated: bool = False  # the article was found in another language, answered in ours
    rankings: list[Ranking] = field(default_factory=list)
    # Cosine similarity of the question and the section given (its dense embedding).
    similarity: float = 0.0


class Retriever:
    def __init__(self, stored: StoredIndex, indexes: dict[str, faiss.Index],
                 embedder: Embedder, calibration: Calibration) -> None:
        self.stored = stored
        self.embedder = embedder
        self.calibration = calibration
        self.rows = stored.rows_by_language()
        self.indexes = indexes
        self.bm25 = {lang: BM25([self._lexical_text(stored.chunks[r]) for r in rows])
                     for lang, rows in self.rows.items()}

    @staticmethod
    def _lexical_text(chunk: Chunk) -> str:
        return f"{chunk.title} {chunk.heading} {chunk.text}"

    @classmethod
    def load(cls, index_dir: Path, embedder: Embedder,
             calibration: Calibration | None = None) -> Retriever:
        stored = StoredIndex.load(index_dir)
        if stored is None:
            raise FileNotFoundError(f"no knowledge-base index in {index_dir}: run "
                                    f"'teranga kb build'")
        if stored.embedder != embedder.name:
            raise ValueError(f"the index in {index_dir} was built with {stored.embedder}, not "
                             f"{embedder.name}: run 'teranga kb build'")
        indexes = {lang: faiss.read_index(str(index_dir / faiss_file(lang)))
                   for lang in stored.rows_by_language()}
        return cls(stored, indexes, embedder, calibration or Calibration())

    @property
    def languages(self) -> list[str]:
        return sorted(self.rows)

    def rank(self, query: str, language: str, ranking: str = "combined",
             query_vector: np.ndarray | None = None) -> Ranking:
        if language not in self.rows:
            return Ranking(language, [])
        query = bounded(query)  # BM25 reads every word, once per language
        if query_vector is None and ranking != "lexical":
            query_vector = self.embedder.embed_queries([query])[0]
        rows = self.rows[language]
        dense = np.zeros(len(rows), dtype=np.float32)
        dense_z = 0.0
        if ranking != "lexical":
            k = min(CANDIDATES, len(rows))
            scores, positions = self.indexes[language].search(query_vector[None, :], k)
            found = positions[0] >= 0
            dense[positions[0][found]] = scores[0][found]
            top_k = scores[0][found]
            if len(top_k) > 1:
                dense_z = float((top_k[0] - top_k.mean()) / (top_k.std() + 1e-6))
        lexical = np.zeros(len(rows), dtype=np.float32)
        if ranking != "dense":
            raw = self.bm25[language].scores(query)
            lexical = raw / (raw + LEXICAL_HALF)
        if ranking == "dense":
            fused = dense
        elif ranking == "lexical":
            fused = lexical
        else:
            fused = dense + LEXICAL_WEIGHT * lexical
        return self._by_article(language, rows, fused, dense, lexical, dense_z)

    def rank_everywhere(self, query: str, ranking: str = "combined",
                        query_vector: np.ndarray | None = None) -> Ranking:
        """Articles by their best section over every language."""
        query = bounded(query)
        if query_vector is None and ranking != "lexical":
            query_vector = self.embedder.embed_queries([query])[0]
        best: dict[str, Candidate] = {}
        by_language = {language: self.rank(query, language, ranking, query_vector)
                       for language in self.languages}
        for per_language in by_language.values():
            for candidate in per_language.candidates:
                known = best.get(candidate.chunk.article_id)
                if known is None or candidate.score > known.score:
                    best[candidate.chunk.article_id] = candidate
        candidates = sorted(best.values(), key=lambda c: -c.score)
        dense_z = by_language[candidates[0].chunk.language].dense_z if candidates else 0.0
        merged = Ranking("*", candidates, dense_z=dense_z)
        merged.confidence = self.calibration.confidence(*merged.features())
        return merged

    def _by_article(self, language, rows, fused, dense, lexical, dense_z) -> Ranking:
        best: dict[str, Candidate] = {}
        shortlist = min(CANDIDATES * 2, len(fused))
        top = np.argpartition(-fused, shortlist - 1)[:shortlist]  # no full sort at 100k
        for position in top[np.argsort(-fused[top])]:
            if fused[position] <= 0:
                break
            chunk = self.stored.chunks[rows[position]]
            if chunk.article_id not in best:
                best[chunk.article_id] = Candidate(chunk, float(fused[position]),
                                                   float(dense[position]),
                                                   float(lexical[position]))
        ranking = Ranking(language, sorted(best.values(), key=lambda c: -c.score),
                          dense_z=dense_z)
        ranking.confidence = self.calibration.confidence(*ranking.features())
        return ranking

    def answer(self, query: str, language: str, threshold: float) -> KbAnswer:
        """The best confident answer for a customer writing in `language`: from that
        language's articles if one is confident enough, else from the best article in any
        language, given in the customer's language when translated."""
        query = bounded(query)
        vector = self.embedder.embed_queries([query])[0]
        own = self.rank(query, language, query_vector=vector)
        if own.best and own.confidence >= threshold:
            section, similarity = self.best_section(own.best.chunk.article_id, language, vector)
            return KbAnswer(True, section, own.confidence, language, language, rankings=[own],
                            similarity=similarity)
        everywhere = self.rank_everywhere(query, query_vector=vector)
        rankings = [own, everywhere]
        if not everywhere.best or everywhere.confidence < threshold:
            return KbAnswer(False, confidence=max(own.confidence, everywhere.confidence),
                            rankings=rankings)
        found = everywhere.best.chunk
        for answer_language in (language, *fallback_languages(language), found.language):
            section, similarity = self.best_section(found.article_id, answer_language, vector)
            if section is not None:
                return KbAnswer(True, section, everywhere.confidence, answer_language,
                                found.language,
                                translated=answer_language == language != found.language,
                                rankings=rankings, similarity=similarity)
        raise AssertionError("unreachable: the article exists in the language it was found in")

    def best_section(self, article_id: str, language: str,
                     vector: np.ndarray) -> tuple[Chunk | None, float]:
        """The article's section in that language closest to the question (never its tags),
        and its cosine similarity to the question."""
        rows = [r for r in self.rows.get(language, ())
                if self.stored.chunks[r].article_id == article_id
                and self.stored.chunks[r].quotable]
        if not rows:
            return None, 0.0
        scores = self.stored.vectors[rows] @ vector
        best = int(np.argmax(scores))
        return self.stored.chunks[rows[best]], float(scores[best])
