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

A question that names a place abroad (a country other than the operator's, or a town outside
it) about a service is asked of the knowledge base as that service abroad: "send money to my
sister in Cotonou" is an international transfer, "does my bundle work in Mali" is roaming. The
retrieval alone does not know that "Mali" means abroad, so the customer's word for abroad
(ABROAD) is added to the question it searches with.

An article replaces an intent's answer only within the intent's topic (TOPICS): the intent
names what the customer asks about, the knowledge base may answer it more specifically (the
fees, the limits, roaming), but an article of another topic means that the classifier and the
knowledge base disagree on the question, and the assistant does not pick one of them silently.
A confident intent then keeps its short answer ("dama bëgg xam sama crédit", check my balance,
is not answered with how to top up); an unsure guess is a miss, as when nothing agrees.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import numpy as np

from teranga.dialogue.knowledge import kb_reply
from teranga.knowledge_base.retriever import KbAnswer
from teranga.knowledge_base.service import KnowledgeBase
from teranga.knowledge_base.topics import INTENT_ARTICLES, in_topic
from teranga.nlu.entities import entities
from teranga.text import bounded

logger = logging.getLogger(__name__)

# The knowledge base's confidence in an article for it to compete with an intent's response,
# how much closer to the question (cosine) another section must be than the response, and the
# confidence at which its best article confirms an unsure guess: chosen on the dev block of
# bench/answers.py (docs/benchmarks.md; any agreement bar from 0.1 to 0.4 gave the same).
SPECIFIC_CONFIDENCE = 0.4
SPECIFIC_MARGIN = 0.0
AGREEMENT_CONFIDENCE = 0.2

# The operator's country and its towns (teranga/nlu/entities.py's names): any other place a
# customer names is abroad.
HOME_COUNTRY = "Senegal"
HOME_TOWNS = frozenset({
    "Dakar", "Thiès", "Touba", "Saint-Louis", "Kaolack", "Ziguinchor", "Mbour", "Rufisque",
    "Louga", "Tambacounda", "Kolda", "Matam", "Bakel", "Diourbel", "Fatick", "Kédougou",
    "Pikine", "Guédiawaye"})
# "Abroad" as the knowledge base's articles say it, in each language; English otherwise.
ABROAD = {"fr": "à l'étranger", "en": "abroad", "wo": "bitim-réew", "sw": "nje ya nchi",
          "ha": "ƙasar waje"}


def names_a_place_abroad(question: str) -> bool:
    """The question names a country other than HOME_COUNTRY or a town outside it."""
    for entity in entities(bounded(question)):
        if entity["entity"] == "country" and entity["value"] != HOME_COUNTRY:
            return True
        if entity["entity"] == "town" and entity["value"] not in HOME_TOWNS:
            return True
    return False


def as_asked_abroad(question: str, language: str) -> str:
    """The question as the knowledge base is asked it: with the customer's word for abroad
    when it names a place abroad."""
    if not names_a_place_abroad(question):
        return question
    return f"{question} {ABROAD.get(language, ABROAD['en'])}"


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
        """The response `utter_<intent>`, unless an article of the intent's topic answers
        more specifically; the knowledge base failing leaves the intent's response."""
        own = Answer(f"utter_{intent}")
        asked = as_asked_abroad(question, language) if intent in INTENT_ARTICLES else question
        try:
            found = self.knowledge_base.answer(asked, language, self.confidence)
            if not found.found or not in_topic(intent, found.chunk.article_id):
                return own
            # Abroad, another article than the service's own is the specific answer: the
            # intent's response does not speak of abroad.
            abroad = asked != question and found.chunk.article_id != INTENT_ARTICLES.get(intent)
            if not abroad and (not response_text
                               or not self._more_specific(found, intent, asked, response_text)):
                return own
        except Exception:
            logger.exception("Knowledge base failed; answering with the intent's response")
            return own
        response, variables = kb_reply(found, language)
        return Answer(response, variables, found.chunk.article_id)

    def agreeing(self, guess: str | None, question: str, language: str,
                 response_text: str | None) -> Answer | None:
        """The answer to an unsure guess at a service: the guess's answer when the knowledge
        base's best article confirms it; else an article of the guess's topic (TOPICS) when
        the knowledge base is as sure of it as a recognised service question needs
        (SPECIFIC_CONFIDENCE: the guess places the question among the company's services, as
        a confident intent does), the question searched as asked abroad when it names a
        place abroad; else None: an article of another topic is a disagreement, not an
        answer."""
        article = INTENT_ARTICLES.get(guess or "")
        if article is None:
            return None
        try:
            found = self.knowledge_base.answer(question, language, AGREEMENT_CONFIDENCE)
            if found.found and found.chunk.article_id == article:
                return self.choose(guess, question, language, response_text)
            found = self.knowledge_base.answer(as_asked_abroad(question, language), language,
                                               self.confidence)
        except Exception:
            logger.exception("Knowledge base failed")
            return None
        if not found.found or not in_topic(guess, found.chunk.article_id):
            return None
        response, variables = kb_reply(found, language)
        return Answer(response, variables, found.chunk.article_id)

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
