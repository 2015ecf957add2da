"""Scoring a trained model on the held-out messages (`tests/data/heldout.yml`)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from teranga.text import words


@dataclass
class LanguageScores:
    messages: int = 0
    intent_correct: int = 0
    long_messages: int = 0  # three words or more
    long_language_correct: int = 0
    language_correct: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def intent_accuracy(self) -> float:
        return self.intent_correct / self.messages if self.messages else 0.0

    @property
    def long_language_accuracy(self) -> float:
        return self.long_language_correct / self.long_messages if self.long_messages else 0.0

    @property
    def language_accuracy(self) -> float:
        return self.language_correct / self.messages if self.messages else 0.0


def read_heldout(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text("utf-8"))["messages"]


def evaluate(model_path: Path, heldout: list[dict]) -> dict[str, LanguageScores]:
    """Parse each message alone (no conversation history) and compare with its labels."""
    from rasa.core.agent import Agent

    quiet_rasa()
    agent = Agent.load(str(model_path))
    scores: dict[str, LanguageScores] = defaultdict(LanguageScores)

    async def run() -> None:
        for item in heldout:
            parsed = await agent.parse_message(item["text"])
            score = scores[item["language"]]
            score.messages += 1
            intent = (parsed.get("intent") or {}).get("name")
            language = parsed["language"]["code"]
            score.intent_correct += intent == item["intent"]
            score.language_correct += language == item["language"]
            if len(words(item["text"])) >= 3:
                score.long_messages += 1
                score.long_language_correct += language == item["language"]
            if intent != item["intent"] or language != item["language"]:
                score.errors.append(f"{item['text']!r}: intent {intent} (want {item['intent']})"
                                    f", language {language} (want {item['language']})")

    asyncio.run(run())
    return dict(scores)


def table(scores: dict[str, LanguageScores]) -> str:
    rows = ["| language | messages | intent accuracy | language accuracy (3+ words) | "
            "language accuracy (all) |", "|---|---|---|---|---|"]
    for lang, s in sorted(scores.items()):
        rows.append(f"| {lang} | {s.messages} | {s.intent_accuracy:.1%} | "
                    f"{s.long_language_accuracy:.1%} ({s.long_messages}) | "
                    f"{s.language_accuracy:.1%} |")
    return "\n".join(rows)


def quiet_rasa() -> None:
    """Rasa logs every parse at debug level by default: too much for a scoring run."""
    import logging

    from rasa.utils.log_utils import configure_structlog

    logging.getLogger().setLevel(logging.WARNING)
    configure_structlog(logging.WARNING)
