"""The project's sentiment sets (bench/sentiment.py) hold what its table reports: at least 60
labelled customer messages in each of the five languages, every label in each."""

from __future__ import annotations

from collections import Counter

from bench.sentiment import PROJECT_SETS, project_rows

LABELS = {"negative", "neutral", "positive"}


def test_each_language_has_sixty_messages_or_more_with_every_label():
    rows = project_rows(PROJECT_SETS)
    assert set(rows) == {"fr", "en", "wo", "sw", "ha"}
    for language, messages in rows.items():
        labels = Counter(label for _text, label in messages)
        assert len(messages) >= 60 and set(labels) == LABELS, (language, labels)
        assert all(text.strip() for text, _label in messages), language
