"""Irritants grouped by meaning, ranked by customers, turned into draft articles."""

from __future__ import annotations

import hashlib
from datetime import date

import numpy as np

from teranga.insights.facts import conversation_facts
from teranga.insights.irritants import Irritants, draft_article
from teranga.insights.store import InsightsStore
from teranga.knowledge_base.articles import read_article, read_catalogue
from tests.unit.test_insights_facts import action, bot, slot, start, user


def embed(texts: list[str]) -> np.ndarray:
    """Words hashed into a vector: messages sharing their words are near, others far."""
    vectors = np.zeros((len(texts), 64), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in text.lower().replace("?", "").split():
            vectors[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % 64] += 1
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def missed(customer: str, text: str, answer: str | None = None, language: str = "fr"):
    events = [*start(0), user(1, text, "out_of_scope", language=language),
              action(2, "action_answer_from_kb"), slot(2, "kb_miss", True),
              action(3, "action_ask_rephrase"), bot(3, "utter_ask_rephrase")]
    if answer:
        events += [slot(4, "waiting_for_agent", True), {"event": "pause", "timestamp": 1e9},
                   bot(5, agent="awa") | {"text": answer}]
    return conversation_facts(customer, events)


def test_messages_are_grouped_by_meaning_and_ranked_by_customers(tmp_path):
    store = InsightsStore.sqlite(tmp_path / "i.db", b"k" * 32)
    for n in range(3):
        store.save(f"c{n}", missed(f"c{n}", "taux de change du yuan aujourd'hui",
                                   "Nous ne faisons pas de change." if n == 0 else None))
    store.save("c3", missed("c3", "taux de change du yuan aujourd'hui ?"))
    store.save("c4", missed("c4", "carte visa prepayee pour voyager"))
    store.save("c5", missed("c5", "habari za leo", language="sw"))
    nearest = []
    finder = Irritants(store, embed, lambda q, lang: nearest.append((q, lang)) or {
        "article_id": "exchange", "title": "Change", "score": 0.4})
    groups = finder.groups()
    assert [(g.language, g.customers) for g in groups] == [("fr", 4), ("fr", 1), ("sw", 1)]
    first = groups[0]
    assert sorted(first.examples) == ["taux de change du yuan aujourd'hui",
                                      "taux de change du yuan aujourd'hui ?"]
    assert first.kinds == {"kb_miss": 4, "not_understood": 4} and first.messages == 4
    assert first.agent_answers == ["Nous ne faisons pas de change."]
    assert first.nearest_article["article_id"] == "exchange"
    assert finder.groups() and len(finder._vectors) == 4  # each text embedded once


def test_a_group_becomes_a_draft_the_assistant_does_not_read_until_it_is_moved(tmp_path):
    store = InsightsStore.sqlite(tmp_path / "i.db", b"k" * 32)
    store.save("c0", missed("c0", "taux de change du yuan: appelez le +221 77 123 45 67",
                            "Nous ne faisons pas de change\nde devises."))
    (group,) = Irritants(store, embed).groups()
    kb = tmp_path / "kb"
    (kb / "fr").mkdir(parents=True)
    path = draft_article(group, kb, date(2026, 12, 6))
    again = draft_article(group, kb, date(2026, 12, 6))
    assert path.parent == kb / "fr" / "drafts" and again != path  # never overwritten
    article = read_article(path, "fr")  # a valid article once moved
    assert article.tags == ("draft",) and "Nous ne faisons pas de change de devises." in \
        article.sections[-1].text
    assert "77 123 45 67" not in path.read_text("utf-8")  # the store's texts are masked
    assert read_catalogue(kb).articles == []
