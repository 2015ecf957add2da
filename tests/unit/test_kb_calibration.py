"""The knowledge base's confidence is fitted on NLU examples (teranga/knowledge_base/calibrate.py):
an example its intent's own article answers is right, one another article answers is wrong,
and one that another article of the intent's topic answers is neither, so it is left out."""

from __future__ import annotations

from types import SimpleNamespace

from teranga.knowledge_base import calibrate
from teranga.knowledge_base.retriever import Calibration


class _Ranking:
    def __init__(self, article: str, features: tuple[float, ...]) -> None:
        self.best = SimpleNamespace(chunk=SimpleNamespace(article_id=article))
        self._features = features

    def features(self) -> tuple[float, ...]:
        return self._features


class _Retriever:
    """Each question's first article, as a real ranking would give it."""

    def __init__(self, rankings: dict[str, _Ranking]) -> None:
        self.rankings = rankings
        self.embedder = SimpleNamespace(embed_queries=lambda texts: [None] * len(texts))

    def rank_everywhere(self, text: str, query_vector=None) -> _Ranking:
        return self.rankings[text]


def test_an_example_another_article_of_its_topic_answers_is_left_out(monkeypatch):
    rankings = {
        "pas de réseau à Pikine": _Ranking("network-problems", (0.9, 0.3, 0.5, 0.4)),
        "mon numéro va marcher au Mali ?": _Ranking("roaming", (0.8, 0.2, 0.4, 0.3)),
        "réseau coupé, je veux mon solde": _Ranking("check-balance", (0.5, 0.1, 0.2, 0.1)),
        "merci beaucoup": _Ranking("check-balance", (0.3, 0.0, 0.1, 0.0)),
    }
    examples = [("pas de réseau à Pikine", "network_problem"),
                ("mon numéro va marcher au Mali ?", "network_problem"),  # roaming: same topic
                ("réseau coupé, je veux mon solde", "network_problem"),  # another topic: wrong
                ("merci beaucoup", None)]
    fitted = {}
    real_fit = Calibration.fit.__func__

    def recording_fit(cls, features, correct):
        fitted.update(features=list(features), correct=list(correct))
        return real_fit(cls, features, correct)

    monkeypatch.setattr(Calibration, "fit", classmethod(recording_fit))
    calibrate.fit(_Retriever(rankings), examples)
    assert fitted["correct"] == [True, False, False]
    assert (0.8, 0.2, 0.4, 0.3) not in fitted["features"]


def test_the_examples_name_their_intent_or_none_for_must_not_answer(tmp_path):
    (tmp_path / "fr.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: network_problem\n  examples: |\n    - pas de réseau\n'
        '- intent: greet\n  examples: |\n    - bonjour\n'
        '- intent: request_human\n  examples: |\n    - un conseiller\n', "utf-8")
    assert calibrate.calibration_examples(tmp_path) == [("pas de réseau", "network_problem"),
                                                         ("bonjour", None)]
