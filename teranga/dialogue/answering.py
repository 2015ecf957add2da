"""The answer to a question the NLU recognised: the intent's short response, or the
knowledge-base section that answers it more specifically.

The intent's response competes with the knowledge base's best section: the section is given
when the knowledge base is fairly confident in its article (SPECIFIC_CONFIDENCE: lower than
the threshold for answering at all, since the classifier already placed the question among
the company's services) and the section is closer in meaning to the question than the
response is, by SPECIFIC_MARGIN. "How do I send money?" stays with the
short response; "how much does it cost to send 50000 francs?" gets the fees section, and
"does my bundle work in Mali?" the roaming article, although the classifier is sure of
send_money and network_problem. Both are compared in the same sentence embedding as the
knowledge base's (the query and passage vectors of its embedder).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import numpy as np

from teranga.dialogue.knowledge import kb_reply
from teranga.knowledge_base.calibrate import INTENT_ARTICLES
from teranga.knowledge_base.retriever import KbAnswer
from teranga.knowledge_base.service import KnowledgeBase
from teranga.text import bounded

logger = logging.getLogger(__name__)

# The knowledge base's confidence in an article for it to compete with an intent's response,
# how much closer to the question (cosine) another section must be than the response, and the
# confidence at which its best article confirms an unsure guess: chosen on the dev block of
# bench/answers.py (docs/benchmarks.md; any agreement bar from 0.1 to 0.4 gave the same).
SPECIFIC_CONFIDENCE = 0.4
SPECIFIC_MARGIN = 0.0
AGREEMENT_CONFIDENCE = 0.2


@dataclass(frozen=True)
class Answer:
    response: str
    variables: dict[str, str] = field(default_factory=dict)
    article_id: str | None = None  # the knowledge-base article given, if any


class IntentAnswers:
    def __init__(self, knowledge_base: KnowledgeBase, margin: float = SPECIFIC_MARGIN,
                 confidence: float = SPECIFIC_CONFIDENCE) -> None:
        self.knowledge_base = knowledge_base
        self.margin, self.confidence = margin, confidence
        self._response_vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()  # actions may run in several threads

    def choose(self, intent: str, question: str, language: str,
               response_text: str | None) -> Answer:
        """The response `utter_<intent>`, unless an article answers more specifically; the
        knowledge base failing leaves the intent's response."""
        own = Answer(f"utter_{intent}")
        try:
            found = self.knowledge_base.answer(question, language, self.confidence)
            if not found.found or not response_text \
                    or not self._more_specific(found, intent, question, response_text):
                return own
        except Exception:
            logger.exception("Knowledge base failed; answering with the intent's response")
            return own
        response, variables = kb_reply(found, language)
        return Answer(response, variables, found.chunk.article_id)

    def agreeing(self, guess: str | None, question: str, language: str,
                 response_text: str | None) -> Answer | None:
        """The answer to an unsure guess that the knowledge base's best article confirms,
        else None."""
        article = INTENT_ARTICLES.get(guess or "")
        if article is None:
            return None
        try:
            found = self.knowledge_base.answer(question, language, AGREEMENT_CONFIDENCE)
        except Exception:
            logger.exception("Knowledge base failed")
            return None
        if not found.found or found.chunk.article_id != article:
            return None
        return self.choose(guess, question, language, response_text)

    def _more_specific(self, found: KbAnswer, intent: str, question: str,
                       response_text: str) -> bool:
        response_vector = self._response_vector(response_text)
        section = found.chunk
        if section.article_id == INTENT_ARTICLES.get(intent):
            summarised, _ = self.knowledge_base.retriever.best_section(
                section.article_id, section.language, response_vector)
            if section == summarised:
                return False
        question_vector = self.knowledge_base.embedder.embed_queries([bounded(question)])[0]
        return found.similarity > float(response_vector @ question_vector) + self.margin

    def _response_vector(self, response_text: str) -> np.ndarray:
        with self._lock:
            vector = self._response_vectors.get(response_text)
        if vector is None:
            vector = self.knowledge_base.embedder.embed_passages([response_text])[0]
            with self._lock:
                self._response_vectors[response_text] = vector
        return vector
