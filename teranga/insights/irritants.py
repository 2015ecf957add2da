"""Irritants and content gaps: what customers wrote that the assistant did not understand,
the questions the knowledge base could not answer, and the last words of conversations that
ended upset, grouped by meaning in each language, ranked by how many customers they
affected, each group with examples, the agents' eventual answers and the nearest existing
article. A content team turns a group into a draft article (`teranga kb draft`).

Meaning is the knowledge base's own sentence embedder (the vectors it searches with), and a
group is an average-linkage cluster of messages whose cosine distance stays under
GROUP_DISTANCE; messages are embedded once per process (a page refresh costs no model call).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from teranga.insights.metrics import Filters
from teranga.insights.schema import conversations, missed_messages
from teranga.insights.store import InsightsStore

GROUP_DISTANCE = 0.15  # cosine: paraphrases of one need, not merely one topic
MAX_MESSAGES = 2000  # per language, the newest: the clustering is quadratic
EXAMPLES = 5
ANSWERS = 3


@dataclass
class Group:
    language: str
    customers: int  # distinct customers who wrote one of its messages
    messages: int
    kinds: dict[str, int]  # not_understood, kb_miss, upset
    examples: list[str]
    agent_answers: list[str] = field(default_factory=list)
    nearest_article: dict | None = None  # {article_id, title, score}

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class Irritants:
    """Groups for a period; `embed` is the knowledge base's embedder (queries), `nearest` its
    ranking (question, language) -> the best candidate or None."""

    def __init__(self, store: InsightsStore, embed, nearest=None) -> None:
        self.store = store
        self.embed = embed
        self.nearest = nearest
        self._vectors: dict[str, np.ndarray] = {}

    def groups(self, filters: Filters | None = None, limit: int = 20) -> list[Group]:
        by_language: dict[str, list] = {}
        for row in self._messages(filters or Filters()):
            by_language.setdefault(row.language or "unknown", []).append(row)
        found = [group for language, rows in by_language.items()
                 for group in self._grouped(language, rows[:MAX_MESSAGES])]
        found.sort(key=lambda g: (-g.customers, -g.messages))
        for group in found[:limit]:
            if self.nearest is not None and group.language != "unknown":
                group.nearest_article = self.nearest(group.examples[0], group.language)
        return found[:limit]

    def _messages(self, filters: Filters) -> list:
        m, c = missed_messages.c, conversations.c
        query = sa.select(m.text, m.kind, m.language, m.at, m.conversation_id, c.customer,
                          c.agent_answer) \
            .join(conversations, m.conversation_id == c.id) \
            .where(*filters.where()).order_by(m.at.desc())
        with self.store.engine.connect() as connection:
            return list(connection.execute(query))

    def _grouped(self, language: str, rows: list) -> list[Group]:
        texts = [row.text for row in rows]
        labels = _clusters(self._embedded(texts))
        groups = []
        for label in sorted(set(labels)):
            members = [row for row, member in zip(rows, labels, strict=True) if member == label]
            examples = list(dict.fromkeys(r.text for r in members))[:EXAMPLES]
            answers = list(dict.fromkeys(r.agent_answer for r in members
                                         if r.agent_answer))[:ANSWERS]
            # one message may be both not understood and a knowledge-base miss
            messages = len({(r.conversation_id, r.at) for r in members})
            groups.append(Group(language, len({r.customer for r in members}), messages,
                                dict(Counter(r.kind for r in members)), examples, answers))
        return groups

    def _embedded(self, texts: list[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if new:
            for text, vector in zip(new, self.embed(new), strict=True):
                self._vectors[text] = np.asarray(vector, dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts]) if texts else np.zeros((0, 1))


def _clusters(vectors: np.ndarray) -> list[int]:
    """Average-linkage clusters under GROUP_DISTANCE (cosine); one message is its own."""
    if len(vectors) < 2:
        return [0] * len(vectors)
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(n_clusters=None, distance_threshold=GROUP_DISTANCE,
                                    affinity="cosine", linkage="average")
    return [int(label) for label in model.fit_predict(vectors)]


def nearest_article(knowledge_base):
    """The `nearest` for `Irritants`: the knowledge base's best candidate for a question."""
    def nearest(question: str, language: str) -> dict | None:
        candidates = knowledge_base.rank(question, language).candidates
        if not candidates:
            return None
        best = candidates[0]
        return {"article_id": best.chunk.article_id, "title": best.chunk.title,
                "score": round(float(best.score), 3)}
    return nearest


def draft_article(group: Group, kb_dir: Path, today: date) -> Path:
    """A draft article for the group in `kb/<language>/drafts/` (not read by the assistant
    until a content team moves it up to `kb/<language>/`): the customers' words as its title
    and tags' source, the agents' answer as a starting point. Never overwrites a file."""
    title = " ".join(group.examples[0].split())[:80].rstrip(" ?!.") or "Question"
    slug = re.sub(r"[^a-z0-9]+", "-", unicodedata.normalize("NFKD", title).encode(
        "ascii", "ignore").decode().lower()).strip("-")[:50] or "question"
    folder = kb_dir / group.language / "drafts"
    folder.mkdir(parents=True, exist_ok=True)
    path, number = folder / f"{slug}.md", 1
    while path.exists():
        number += 1
        path = folder / f"{slug}-{number}.md"
    asked = "\n".join(f"#   - {' '.join(example.split())}" for example in group.examples)
    answer = " ".join(group.agent_answers[0].split()) if group.agent_answers else (
        "Write the answer here: the steps, the fees, where to go.")
    nearest = (f"# The nearest existing article: {group.nearest_article['article_id']}; check "
               "that this one is not a section of it." if group.nearest_article
               else "# No existing article is near.")
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(group.kinds.items()))
    # The guidance is in the front matter's comments: nothing of it is published.
    path.write_text(f"""---
# A draft from Teranga's irritants: {group.customers} customer(s), {group.messages} message(s)
# ({kinds}). What they wrote:
{asked}
{nearest}
# Write the answer in the customers' words (the agents' answer below is a starting point),
# then move this file up to kb/{group.language}/ to publish it.
id: {path.stem}
title: {json.dumps(title, ensure_ascii=False)}
tags: [draft]
updated: {today.isoformat()}
---
# {title}

## {title}

{answer}
""", "utf-8")
    return path
