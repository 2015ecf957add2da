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


def test_the_sentiment_and_intent_models_of_a_process_share_one_embedding(monkeypatch):
    import teranga.embedders as embedders
    from teranga.nlu.sentiment import SentenceEmbedding

    made: list[CountingEmbedder] = []
    monkeypatch.setattr(embedders, "_SHARED", {})
    monkeypatch.setattr(embedders, "make_embedder",
                        lambda spec: made.append(CountingEmbedder()) or made[-1])
    intents = embedders.shared_embedder("counting")
    SentenceEmbedding("counting").transform(["salio langu"])  # the sentiment model, first
    intents.embed_queries(["salio langu"])  # the intent classifier, next in the pipeline
    assert len(made) == 1 and made[0].embedded == ["salio langu"]
