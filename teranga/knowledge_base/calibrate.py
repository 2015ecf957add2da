"""Fitting the knowledge-base confidence on the project's own training data, so that the
evaluation questions stay unseen.

Positives: NLU examples of the intents a knowledge-base article answers, in every language;
an example is right when its intent's own article comes first, and is left out when another
article of the intent's topic does (`topics.TOPICS`: "will my line work in Mali?" is a network
question that roaming answers), since its intent does not say which of them answers it.
Negatives: NLU examples of small-talk intents and of `out_of_scope`, questions the knowledge
base does not answer (written for the project, and in English also CLINC150's out-of-scope
training questions, CC BY 3.0).
"""

from __future__ import annotations

from pathlib import Path

from teranga.corpora import nlu_examples
from teranga.knowledge_base.retriever import Calibration, Retriever
from teranga.knowledge_base.topics import INTENT_ARTICLES, in_topic

SMALL_TALK = {"greet", "goodbye", "thanks", "affirm", "deny", "bot_challenge"}
OUT_OF_SCOPE = "out_of_scope"
# Share of negatives the chosen threshold may still answer.
MAX_FALSE_ANSWER_RATE = 0.02


def calibration_examples(nlu_dir: Path) -> list[tuple[str, str | None]]:
    """(text, the intent an article answers, or None for "must not answer")."""
    examples = []
    for _language, intent, text in nlu_examples(nlu_dir):
        if intent in INTENT_ARTICLES:
            examples.append((text, intent))
        elif intent in SMALL_TALK or intent == OUT_OF_SCOPE:
            examples.append((text, None))
    return examples


def fit(retriever: Retriever, examples: list[tuple[str, str | None]]) -> Calibration:
    """A logistic confidence, and the lowest threshold that answers at most
    MAX_FALSE_ANSWER_RATE of the negatives."""
    features, correct, negatives = [], [], []
    vectors = retriever.embedder.embed_queries([text for text, _ in examples])
    for (text, intent), vector in zip(examples, vectors, strict=True):
        merged = retriever.rank_everywhere(text, query_vector=vector)
        top = merged.best.chunk.article_id if merged.best else None
        article = INTENT_ARTICLES.get(intent or "")
        if article is not None and top != article and in_topic(intent, top):
            continue  # neither right nor wrong: see the module's docstring
        features.append(merged.features())
        correct.append(article is not None and top == article)
        if article is None:
            negatives.append(merged.features())
    calibration = Calibration.fit(features, correct)
    for step in range(5, 96):
        threshold = step / 100
        answered = sum(calibration.confidence(*f) >= threshold for f in negatives)
        if answered <= MAX_FALSE_ANSWER_RATE * len(negatives):
            return calibration.with_threshold(threshold)
    return calibration.with_threshold(0.95)
