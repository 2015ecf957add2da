"""The knowledge base embeds a question once per turn, not once per use."""

import numpy as np

from teranga.embedders import QueryCache


class CountingEmbedder:
    name, dim = "counting", 2

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed_queries(self, texts):
        self.embedded += texts
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    def embed_passages(self, texts):
        return self.embed_queries(texts)


def test_a_question_asked_again_is_not_embedded_again():
    inner = CountingEmbedder()
    cache = QueryCache(inner, size=2)
    first = cache.embed_queries(["a", "bb", "a"])
    assert first.tolist() == [[1, 1], [2, 1], [1, 1]] and inner.embedded == ["a", "bb"]
    assert cache.embed_queries(["bb"]).tolist() == [[2, 1]] and inner.embedded == ["a", "bb"]
    cache.embed_queries(["ccc"])  # the oldest ("a") leaves the cache
    cache.embed_queries(["a"])
    assert inner.embedded == ["a", "bb", "ccc", "a"]
    assert cache.embed_queries([]).shape == (0, 2)
