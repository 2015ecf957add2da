"""BM25 over words, USSD codes and short word stems.

Dense embeddings know little Wolof or Hausa and nothing of "*144#"; exact matches on words
and codes carry those. Stems (a word's first five letters) let "kununua" meet "kununulia".
"""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np
from scipy import sparse

from teranga.text import normalize

_TOKEN = re.compile(r"\*[\d*#]+#?|\d+|[^\W\d_]+")
STEM_LENGTH = 5


def tokens(text: str) -> list[str]:
    found = _TOKEN.findall(normalize(text))
    stems = [f"{t[:STEM_LENGTH]}~" for t in found if t.isalpha() and len(t) > STEM_LENGTH]
    return found + stems


class BM25:
    """Okapi BM25; document weights precomputed in a sparse matrix, so a query is one
    sparse product whatever the number of documents."""

    def __init__(self, documents: list[str], k1: float = 1.2, b: float = 0.75) -> None:
        counts = [Counter(tokens(doc)) for doc in documents]
        self.vocabulary: dict[str, int] = {}
        for counter in counts:
            for term in counter:
                self.vocabulary.setdefault(term, len(self.vocabulary))
        n_docs = max(len(documents), 1)
        lengths = np.array([sum(c.values()) for c in counts] or [0], dtype=np.float32)
        average = float(lengths.mean()) or 1.0
        document_frequency = Counter(term for counter in counts for term in counter)
        rows, cols, values = [], [], []
        for row, counter in enumerate(counts):
            norm = k1 * (1 - b + b * lengths[row] / average)
            for term, tf in counter.items():
                df = document_frequency[term]
                idf = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
                rows.append(row)
                cols.append(self.vocabulary[term])
                values.append(idf * tf * (k1 + 1) / (tf + norm))
        # Column-major: a query reads the columns of its few terms.
        self.matrix = sparse.csc_matrix((values, (rows, cols)),
                                        shape=(len(documents), max(len(self.vocabulary), 1)),
                                        dtype=np.float32)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for the query."""
        columns = [self.vocabulary[t] for t in set(tokens(query)) if t in self.vocabulary]
        if not columns:
            return np.zeros(self.matrix.shape[0], dtype=np.float32)
        return np.asarray(self.matrix[:, columns].sum(axis=1)).ravel()
